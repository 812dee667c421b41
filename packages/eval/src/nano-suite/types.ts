import type { BenchmarkGroup, BenchmarkItem } from '@xfer/core';
import type { Scorer } from '../scorers/types.js';
import type { Random } from './random.js';

/** One generated item before it gets an id: `key` is its canonical content, and its hash decides the split. */
export interface NanoItemDraft {
  /** Canonical content: two drafts with the same key are the same item. */
  key: string;
  /**
   * What the split is decided on, when coarser than `key`: knowledge questions split by question text, so an
   * evaluation question is never asked in training (only its fact is stated, and its other phrasing asked).
   */
  splitKey?: string;
  input: Record<string, unknown>;
  /** Generative tasks: the reference answer; log-likelihood tasks: the index of the correct choice. */
  target: unknown;
  /** Log-likelihood tasks: the continuations scored after the prompt, in order. */
  choices?: string[];
  meta?: Record<string, unknown>;
}

/** Train items feed the pretraining corpus and the training drivers; eval items are only ever evaluated. */
export type NanoSplit = 'train' | 'eval';

/**
 * One nano-suite task: a procedurally generated miniature of one of the paper's twelve benchmarks, with
 * its prompt (the user turn, rendered through the model's chat template), its metric and an exact verifier.
 */
export interface NanoTask {
  /** Benchmark id, `nano-*`. */
  readonly id: string;
  readonly group: BenchmarkGroup;
  /** The paper benchmark this task mirrors (`math-500`, `gpqa-diamond`...). */
  readonly mirrors: string;
  /** The skill it exercises, in a few words. */
  readonly skill: string;
  /** The user-turn template, with `{placeholders}`, as documentation. */
  readonly promptTemplate: string;
  /** The metric, as documentation. */
  readonly metric: string;
  /** `generative` (greedy completion, verified) or `loglikelihood` (argmax of summed choice logprobs). */
  readonly kind: 'generative' | 'loglikelihood';
  /** Accuracy of a uniform random guess (0 for free-form answers). */
  readonly chance: number;
  /** Generation budget in tokens (bytes for engine-nano) for generative tasks. */
  readonly maxTokens: number;
  /** Draw one item. */
  draft(random: Random): NanoItemDraft;
  /** The user message for an item. */
  prompt(item: BenchmarkItem): string;
  /** The plain "base model" answer for an item: what the pretraining corpus teaches. */
  answer(item: BenchmarkItem): string;
  /**
   * The item's fact as plain pretraining text states it, outside any chat (math tasks: `47+38=85.`), so a
   * corpus can hold many cheap worked examples besides the chat-formatted items.
   */
  statement?(item: BenchmarkItem): string;
  readonly scorer: Scorer;
}
