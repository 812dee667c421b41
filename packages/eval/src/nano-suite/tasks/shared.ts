import type { BenchmarkItem } from '@xfer/core';

/** The user message stored on every nano item (`input.prompt`). */
export function storedPrompt(item: BenchmarkItem): string {
  const prompt = item.input.prompt;
  if (typeof prompt !== 'string') throw new Error(`nano item ${item.id} has no input.prompt`);
  return prompt;
}

/** Letters of the multiple-choice options, in order. */
export const LETTERS = ['A', 'B', 'C', 'D'] as const;

/** `A) x\nB) y...` */
export function formatOptions(options: readonly string[]): string {
  return options.map((option, index) => `${LETTERS[index]}) ${option}`).join('\n');
}
