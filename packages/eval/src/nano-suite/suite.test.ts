import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { nanoItems, nanoTasks, nanoTasksOfGroup, splitOfKey } from './suite.js';

describe('nano-suite tasks', () => {
  it('has twelve nano-* tasks, four per paper group, mirroring twelve distinct benchmarks', () => {
    expect(nanoTasks).toHaveLength(12);
    expect(new Set(nanoTasks.map((task) => task.id)).size).toBe(12);
    expect(new Set(nanoTasks.map((task) => task.mirrors)).size).toBe(12);
    for (const task of nanoTasks) expect(task.id).toMatch(/^nano-[a-z]+$/);
    for (const group of ['math', 'other', 'non'] as const) expect(nanoTasksOfGroup(group)).toHaveLength(4);
  });

  it('draws the same items for the same seed and different items for another seed', () => {
    for (const task of nanoTasks) {
      const first = nanoItems(task, { split: 'train', count: 20, seed: 7 });
      const again = nanoItems(task, { split: 'train', count: 20, seed: 7 });
      const other = nanoItems(task, { split: 'train', count: 20, seed: 8 });
      expect(again).toEqual(first);
      expect(other.map((item) => item.id)).not.toEqual(first.map((item) => item.id));
    }
  });

  it('never lets a training item be an evaluation item, whatever the seeds', () => {
    for (const task of nanoTasks) {
      const evaluation = new Set(nanoItems(task, { split: 'eval', count: 200 }).map((item) => item.id));
      expect(evaluation.size).toBe(200);
      for (const seed of [0, 1, 2]) {
        const training = nanoItems(task, { split: 'train', count: 400, seed });
        expect(training.filter((item) => evaluation.has(item.id))).toEqual([]);
      }
    }
  });

  it('never asks an evaluation knowledge question in training, in any phrasing seen at evaluation', () => {
    for (const id of ['nano-science', 'nano-medical']) {
      const task = nanoTasks.find((candidate) => candidate.id === id)!;
      const asked = new Set(
        nanoItems(task, { split: 'train', count: 2000, seed: 1 }).map((item) => item.input.question),
      );
      const evaluation = nanoItems(task, { split: 'eval', count: 200 });
      for (const item of evaluation)
        expect(asked.has(item.input.question), `${id}: ${String(item.input.question)}`).toBe(false);
    }
  });

  it('decides the split from the content alone, about one item in five for evaluation', () => {
    const keys = Array.from({ length: 5000 }, (_, index) => `key-${index}`);
    const share = keys.filter((key) => splitOfKey('nano-x', key) === 'eval').length / keys.length;
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.23);
    expect(splitOfKey('nano-x', 'key-1')).toBe(splitOfKey('nano-x', 'key-1'));
  });

  it('keeps every prompt plus answer short enough for a byte-level model', () => {
    for (const task of nanoTasks) {
      for (const item of nanoItems(task, { split: 'eval', count: 200 })) {
        const bytes = Buffer.byteLength(task.prompt(item)) + Buffer.byteLength(task.answer(item));
        // With the chat template's 30 tokens around them (no-think), 226 bytes fill the nano base's 256 positions.
        expect(bytes, `${task.id} ${item.id}`).toBeLessThanOrEqual(226);
      }
    }
  });

  it("gives every generative task a budget that fits its base answer (the corpus's answer style)", () => {
    // A budget shorter than the answer the base was pretrained to write cuts it before the verdict:
    // the task then scores 0 whatever the model knows. Byte-level tokenizer: one token per byte.
    for (const task of nanoTasks.filter((candidate) => candidate.kind === 'generative')) {
      for (const item of nanoItems(task, { split: 'eval', count: 200 })) {
        const answer = task.answer(item);
        expect(Buffer.byteLength(answer) + 8, `${task.id}: ${answer}`).toBeLessThanOrEqual(task.maxTokens);
      }
    }
  });

  it("scores each task's reference answer correct and a wrong answer incorrect", async () => {
    for (const task of nanoTasks) {
      for (const item of nanoItems(task, { split: 'eval', count: 50 })) {
        if (task.scorer.kind === 'generative') {
          const right = await task.scorer.score({ item, completion: task.answer(item) });
          const wrong = await task.scorer.score({ item, completion: 'I am not sure.' });
          expect(right.correct, `${task.id} ${task.answer(item)}`).toBe(true);
          expect(wrong.correct).toBe(false);
        } else {
          const target = Number(item.target);
          const choices = item.choices!.map((choice, index) => ({
            id: String(index),
            tokenIds: [1],
            tokens: [choice],
            logprobs: [index === target ? -0.1 : -3],
            ranks: [1],
            isGreedy: [true],
          }));
          expect(task.scorer.score({ item, choices }).correct).toBe(true);
          const flipped = choices.map((choice, index) => ({
            ...choice,
            logprobs: [index === target ? -5 : -1],
          }));
          expect(task.scorer.score({ item, choices: flipped }).correct).toBe(false);
        }
      }
    }
  });

  it('gives log-likelihood tasks their choices and multiple-choice tasks balanced keys', () => {
    for (const task of nanoTasks.filter((candidate) => candidate.kind === 'loglikelihood')) {
      const items = nanoItems(task, { split: 'eval', count: 200 });
      for (const item of items) expect(item.choices!.length).toBeGreaterThanOrEqual(2);
      const counts = new Map<number, number>();
      for (const item of items) counts.set(Number(item.target), (counts.get(Number(item.target)) ?? 0) + 1);
      for (const count of counts.values()) expect(count / items.length).toBeLessThan(0.7);
    }
  });

  it('throws a ValidationError naming the field when a split holds fewer items than asked', () => {
    const remainder = nanoTasks.find((task) => task.id === 'nano-remainder')!;
    const error = (() => {
      try {
        nanoItems(remainder, { split: 'eval', count: 100_000 });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('count');
  });
});
