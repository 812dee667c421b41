import { MockEngine } from '@xfer/core/testing';
import { describe, expect, it } from 'vitest';
import { plainRenderer } from '../runner/plan.js';
import { chanceOf, evaluateNanoSuite, formatNanoSuiteTable, wilsonInterval } from './evaluate.js';
import { nanoItems, nanoTasks } from './suite.js';

/** An engine that knows the answer to `share` of the items (by a stable hash of the prompt) and fails the rest. */
function oracle(shareKnown: number) {
  const answers = new Map<string, string>();
  // Log-likelihood items may share a prompt (a knowledge question asked with other options or at another
  // level); every right choice of a prompt is right for it.
  const rightChoices = new Map<string, Set<string>>();
  for (const task of nanoTasks) {
    for (const item of nanoItems(task, { split: 'eval', count: 40 })) {
      answers.set(task.prompt(item), task.answer(item));
      if (item.choices) {
        const rights = rightChoices.get(task.prompt(item)) ?? new Set<string>();
        rights.add(item.choices[Number(item.target)]!);
        rightChoices.set(task.prompt(item), rights);
      }
    }
  }
  const known = (prompt: string) =>
    [...prompt].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) % 1000, 7) < shareKnown * 1000;
  return new MockEngine({
    respond: (request) => (known(request.prompt) ? (answers.get(request.prompt) ?? '') : 'unsure'),
    score: (request) => {
      const right = rightChoices.get(request.context)!.has(request.continuation);
      const good = known(request.context) ? right : !right;
      return {
        tokenIds: [1],
        tokens: [request.continuation],
        logprobs: [good ? -0.5 : -2],
        ranks: [1],
        isGreedy: [true],
      };
    },
  });
}

describe('evaluateNanoSuite', () => {
  it('scores a perfect engine 100% on every task and a wrong one 0%', async () => {
    const perfect = await evaluateNanoSuite(oracle(1), { limit: 40, renderer: plainRenderer });
    expect(perfect.tasks).toHaveLength(12);
    for (const task of perfect.tasks) expect(task.accuracy, task.task).toBe(1);
    expect(perfect.groups).toEqual({ math: 1, other: 1, non: 1 });
    const wrong = await evaluateNanoSuite(oracle(0), { limit: 40, renderer: plainRenderer });
    for (const task of wrong.tasks) expect(task.accuracy, task.task).toBe(0);
  });

  it('reports partial accuracy with Wilson intervals, grouped, as a table', async () => {
    const result = await evaluateNanoSuite(oracle(0.5), {
      limit: 40,
      renderer: plainRenderer,
      tasks: ['nano-arithmetic', 'nano-temporal'],
    });
    expect(result.tasks.map((task) => task.task)).toEqual(['nano-arithmetic', 'nano-temporal']);
    for (const task of result.tasks) {
      expect(task.accuracy).toBeGreaterThan(0.2);
      expect(task.accuracy).toBeLessThan(0.8);
      expect(task.low).toBeLessThan(task.accuracy);
      expect(task.high).toBeGreaterThan(task.accuracy);
    }
    expect(Number.isNaN(result.groups.other)).toBe(true);
    const table = formatNanoSuiteTable(result);
    expect(table).toContain('Math reasoning');
    expect(table).toContain('Non-reasoning');
    expect(table).not.toContain('Other reasoning');
  });

  it('computes the Wilson interval', () => {
    const { low, high } = wilsonInterval(50, 100);
    expect(low).toBeCloseTo(0.4038, 3);
    expect(high).toBeCloseTo(0.5962, 3);
    expect(wilsonInterval(0, 10).low).toBe(0);
  });

  it('takes the larger label share as the chance of a Yes/No task, the uniform guess otherwise', () => {
    const items = (targets: unknown[]) =>
      targets.map((target, index) => ({ id: String(index), benchmark: 'b', input: {}, target, meta: {} }));
    expect(chanceOf(0.5, items(['Yes', 'No', 'No', 'No']))).toBe(0.75);
    expect(chanceOf(0.5, items([1, 0, 1, 0]))).toBe(0.5);
    expect(chanceOf(0.25, items([0, 1, 2, 3, 0]))).toBe(0.25);
    expect(chanceOf(0, items(['7', '8']))).toBe(0);
  });
});
