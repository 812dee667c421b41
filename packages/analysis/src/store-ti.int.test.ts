import { XferError } from '@xfer/core';
import { sha256 } from '@xfer/store';
import { createTestStore, type TestStore } from '@xfer/store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';
import { storeTransferability } from './store-ti.js';
import { transferabilityIndex } from './ti.js';

/** Benchmarks of a small nano-style suite: their groups live in the store's benchmark records. */
const suite = { 'nano-arith': 'math', 'nano-logic': 'other', 'nano-recall': 'non' } as const;
const rates = {
  base: { 'nano-arith': 0.3, 'nano-logic': 0.4, 'nano-recall': 0.6 },
  tuned: { 'nano-arith': 0.7, 'nano-logic': 0.5, 'nano-recall': 0.5 },
};

let open: TestStore | undefined;
afterEach(() => {
  open?.cleanup();
  open = undefined;
});

function populate(options: { tunedSeed?: number; dropItem?: boolean } = {}) {
  open = createTestStore();
  const { store } = open;
  for (const [id, group] of Object.entries(suite)) {
    store.benchmarks.register({
      id,
      version: '1',
      group,
      itemsHash: sha256(id),
      itemCount: 40,
      source: 'nano-suite',
    });
  }
  const base = store.models.create({
    name: 'nano-base',
    ref: { kind: 'nano', name: 'nano-base' },
    method: 'base',
  });
  const tuned = store.models.create({
    name: 'nano-rl',
    ref: { kind: 'nano', name: 'nano-rl' },
    method: 'rl',
    baseModelId: base.id,
  });
  const runs: Record<'base' | 'tuned', string> = { base: '', tuned: '' };
  const random = new SeededRandom(123);
  for (const [who, model] of [
    ['base', base],
    ['tuned', tuned],
  ] as const) {
    const seed = who === 'tuned' ? (options.tunedSeed ?? 0) : 0;
    const run = store.evalRuns.create({
      modelId: model.id,
      settings: { benchmarks: Object.keys(suite), samples: 2, seed },
      modelHash: sha256(model.name),
      chatTemplateHash: sha256('template'),
      samplingHash: sha256('greedy'),
      scorerVersions: { exact: '1' },
      benchmarkHashes: Object.fromEntries(Object.keys(suite).map((id) => [id, sha256(id)])),
      status: 'completed',
    });
    runs[who] = run.id;
    const samples = [];
    for (const benchmark of Object.keys(suite) as (keyof typeof suite)[]) {
      for (let item = 0; item < 40; item++) {
        if (options.dropItem && who === 'tuned' && benchmark === 'nano-logic' && item === 7) continue;
        for (let index = 0; index < 2; index++) {
          const correct = random.nextUint32() / 2 ** 32 < rates[who][benchmark];
          samples.push({
            requestHash: sha256(`${who}/${benchmark}/${item}/${index}`),
            runId: run.id,
            benchmark,
            itemId: `item-${item}`,
            sampleIndex: index,
            seed: seed + index,
            prompt: `q${item}`,
            completion: correct ? 'right' : 'wrong',
            finishReason: 'stop' as const,
            promptTokens: 3,
            completionTokens: 1,
            latencyMs: 1,
            verdicts: [
              {
                grader: 'exact',
                graderVersion: '1',
                extracted: null,
                correct,
                score: correct ? 1 : 0,
                details: {},
              },
            ],
          });
        }
      }
    }
    store.samples.insertSamples(samples);
  }
  return { store, runs };
}

describe('TI from the store (real SQLite file)', () => {
  it('pairs the runs, takes groups from the benchmark records, bootstraps and saves the analysis', () => {
    const { store, runs } = populate();
    const result = storeTransferability(store, {
      modelRunId: runs.tuned,
      baseRunId: runs.base,
      formula: 'v1',
      resamples: 500,
      seed: 3,
      save: true,
    });
    expect(result.deltas.map((delta) => [delta.benchmark, delta.items])).toEqual([
      ['nano-arith', 40],
      ['nano-logic', 40],
      ['nano-recall', 40],
    ]);
    // The point estimate is the plain TI of the run means (independent recomputation from the samples).
    const means = (runId: string) => {
      const totals: Record<string, { sum: number; n: number }> = {};
      for (const sample of store.samples.listRunSamples(runId)) {
        const entry = (totals[sample.benchmark] ??= { sum: 0, n: 0 });
        entry.sum += sample.verdicts[0]!.score * 100;
        entry.n++;
      }
      return Object.fromEntries(Object.entries(totals).map(([id, { sum, n }]) => [id, sum / n]));
    };
    const plain = transferabilityIndex(means(runs.tuned), means(runs.base), suite, { formula: 'v1' });
    expect(result.point.tiOther).toBeCloseTo(plain.tiOther!, 10);
    expect(result.tiNon.estimate).toBeCloseTo(plain.tiNon!, 10);
    expect(result.tiOther.low!).toBeLessThan(result.tiOther.high!);
    const arith = result.deltas[0]!;
    expect(arith.low!).toBeGreaterThan(0);
    const saved = store.analyses.require(result.analysis!.id);
    expect(saved.kind).toBe('ti');
    expect((saved.result as { tiOther: { low: number } }).tiOther.low).toBeCloseTo(result.tiOther.low!, 12);
  });

  it('refuses runs with different seeds or different items', () => {
    const first = populate({ tunedSeed: 5 });
    const error = (() => {
      try {
        storeTransferability(first.store, {
          modelRunId: first.runs.tuned,
          baseRunId: first.runs.base,
          formula: 'v2',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(XferError.hasCode(error, 'INCOMPARABLE_RUNS')).toBe(true);
    open!.cleanup();
    const second = populate({ dropItem: true });
    expect(() =>
      storeTransferability(second.store, {
        modelRunId: second.runs.tuned,
        baseRunId: second.runs.base,
        formula: 'v2',
      }),
    ).toThrow(/nano-logic: item item-7 sample 0 \(seed 0\) is missing from the model run/);
  });
});
