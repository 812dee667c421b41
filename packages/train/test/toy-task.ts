import type { BenchmarkItem } from '@xfer/core';
import { createNanoModel, NanoTrainer } from '@xfer/engine-nano';
import { tinyNanoConfig } from '@xfer/engine-nano/testing';
import type { GenerativeScorer } from '@xfer/eval';
import type { TrainTask } from '../src/index.js';

/** A toy math task for driver tests: "a+b=" → "\boxed{c}". */
export function toyTask(count = 12): TrainTask {
  const items: BenchmarkItem[] = Array.from({ length: count }, (_, index) => {
    const a = (index * 7) % 10;
    const b = (index * 3 + 1) % 10;
    return { id: `toy-${index}`, benchmark: 'toy-add', input: { a, b }, target: String(a + b), meta: {} };
  });
  const scorer: GenerativeScorer = {
    kind: 'generative',
    name: 'toy-boxed',
    version: '1',
    score: ({ item, completion }) => {
      const match = /\\boxed\{([^}]*)\}/.exec(completion);
      const extracted = match ? match[1]! : null;
      const correct = extracted === item.target;
      return {
        grader: 'toy-boxed',
        graderVersion: '1',
        extracted,
        correct,
        score: correct ? 1 : 0,
        details: {},
      };
    },
  };
  return {
    items,
    scorer,
    renderPrompt: (item) =>
      `<|im_start|>user\n${item.input.a}+${item.input.b}=<|im_end|>\n<|im_start|>assistant\n`,
    endOfTurn: '<|im_end|>',
    stop: ['<|im_end|>'],
  };
}

export const tinyConfig = tinyNanoConfig(128);

export function tinyTrainer(seed = 1, options: { weightDecay?: number } = {}): NanoTrainer {
  return new NanoTrainer(createNanoModel(tinyConfig, seed), {
    optimizer: { weightDecay: options.weightDecay ?? 0 },
  });
}
