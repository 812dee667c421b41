import { type ScoreResult, ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';
import {
  exactKl,
  exactKlFromScores,
  parseTokenLossFile,
  smoothedLog,
  tokenShift,
  tracesFromScores,
  tracesFromTokenLossFile,
} from './token-shift.js';

function lossFile(model: string, samples: { token: string; loss: number; rank: number }[][]) {
  return JSON.stringify({
    model,
    dataset: 'ifeval',
    results: samples.map((tokens) => ({ avg_loss: 0, perplexity: 1, token_losses: tokens })),
  });
}

describe("the paper's estimator (calculate_KL.py)", () => {
  it('smoothedLog equals log(exp(x) + 1e-10) to rounding on both sides of the series cut-off', () => {
    const random = new SeededRandom(3);
    const samples = Array.from({ length: 2000 }, () => -(random.nextUint32() / 2 ** 32) * 16);
    for (const logprob of [
      0,
      -1e-9,
      -0.3,
      -0.34657,
      -2,
      -9.2,
      -9.3,
      -13.79,
      -13.8,
      -20,
      -23.02585,
      -30,
      -800,
      ...samples,
    ]) {
      const direct = Math.log(Math.exp(logprob) + 1e-10);
      expect(Math.abs(smoothedLog(logprob) - direct)).toBeLessThanOrEqual(
        4 * Number.EPSILON * Math.max(1, Math.abs(direct)),
      );
    }
  });

  it('hand-computed two-sample example with truncation to the shorter side', () => {
    // sample 0: losses tuned (0.1, 0.5), base (0.7, 0.2) → Δlog p = (−0.1 + 0.7) + (−0.5 + 0.2) = 0.3, mean 0.15
    // sample 1: tuned (2.0, 1.0, 4.0), base (1.0, 3.0) → aligned 2: (−2 + 1) + (−1 + 3) = 1, mean 0.5
    // (the 1e-10 smoothing changes these by < 1e-8) → |(0.15 + 0.5)/2| = 0.325
    const tuned = parseTokenLossFile(
      lossFile('tuned', [
        [
          { token: 'So', loss: 0.1, rank: 1 },
          { token: ' we', loss: 0.5, rank: 2 },
        ],
        [
          { token: 'But', loss: 2.0, rank: 3 },
          { token: ' x', loss: 1.0, rank: 1 },
          { token: '!', loss: 4.0, rank: 9 },
        ],
      ]),
    );
    const base = parseTokenLossFile(
      lossFile('base', [
        [
          { token: 'So', loss: 0.7, rank: 2 },
          { token: ' we', loss: 0.2, rank: 2 },
        ],
        [
          { token: 'But', loss: 1.0, rank: 1 },
          { token: ' x', loss: 3.0, rank: 5 },
        ],
      ]),
    );
    const result = tokenShift(tracesFromTokenLossFile(tuned), tracesFromTokenLossFile(base));
    expect(result.perSampleKl[0]).toBeCloseTo(0.15, 7);
    expect(result.perSampleKl[1]).toBeCloseTo(0.5, 7);
    expect(result.paperKl).toBeCloseTo(0.325, 7);
    // rank shifts over the 4 aligned tokens: |2−1| = 1, 0, |1−3| = 2, |5−1| = 4 → mean 7/4, 3 of 4 changed
    expect(result.meanRankShift).toBe(7 / 4);
    expect(result.shiftedShare).toBe(3 / 4);
    expect(result.truncatedSamples).toBe(1);
    expect(result.alignedTokens).toBe(4);
    expect(result.topShiftedTokens.map((token) => [token.token, token.shifted, token.meanShift])).toEqual([
      [' x', 1, 4],
      ['But', 1, 2],
      ['So', 1, 1],
    ]);
    expect(() =>
      tokenShift(tracesFromTokenLossFile(tuned), tracesFromTokenLossFile(base), { align: 'strict' }),
    ).toThrow(/results\[1\]\.token_losses.*3 tokens, base has 2/);
  });

  it('the smoothing matters only for tiny probabilities, and the absolute value is taken last', () => {
    // a token with loss 30 (p ≈ 9.4e-14) is floored near 1e-10 by the smoothing: log(1e-10 + 9.4e-14) ≈ −23.0249
    const tuned = parseTokenLossFile(lossFile('t', [[{ token: 'a', loss: 30, rank: 50 }]]));
    const base = parseTokenLossFile(lossFile('b', [[{ token: 'a', loss: 0, rank: 1 }]]));
    const result = tokenShift(tracesFromTokenLossFile(tuned), tracesFromTokenLossFile(base));
    const expected = Math.log(Math.exp(-30) + 1e-10) - Math.log(1 + 1e-10);
    expect(result.perSampleKl[0]).toBeCloseTo(expected, 12);
    expect(result.perSampleKl[0]).toBeCloseTo(-23.0249, 3);
    expect(result.paperKl).toBeCloseTo(-expected, 12);
  });

  it('different sample counts, empty samples and bad files are handled explicitly', () => {
    const one = tracesFromTokenLossFile(
      parseTokenLossFile(lossFile('a', [[{ token: 'a', loss: 1, rank: 1 }]])),
    );
    const two = tracesFromTokenLossFile(
      parseTokenLossFile(lossFile('b', [[{ token: 'a', loss: 1, rank: 1 }], []])),
    );
    expect(() => tokenShift(one, two)).toThrow(/1 samples, base has 2/);
    const withEmpty = tokenShift(two, two);
    expect(withEmpty.emptySamples).toBe(1);
    expect(withEmpty.paperKl).toBe(0);
    const error = (() => {
      try {
        parseTokenLossFile(
          '{"model":"m","dataset":"d","results":[{"token_losses":[{"loss":-1,"token":"x","rank":1}]}]}',
          'a.json',
        );
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).file).toBe('a.json');
    expect((error as ValidationError).field).toBe('results[0].token_losses[0].loss');
    expect(() => parseTokenLossFile('{"model":', 'b.json')).toThrow(/b\.json: malformed JSON/);
  });
});

function softmaxLog(logits: number[]): number[] {
  const max = Math.max(...logits);
  const total = logits.reduce((sum, value) => sum + Math.exp(value - max), 0);
  return logits.map((value) => value - max - Math.log(total));
}

describe('exact KL over the full vocabulary', () => {
  it('matches the hand value and a brute-force sum in probability space', () => {
    // p = (0.5, 0.5), q = (0.25, 0.75): KL = 0.5·ln 2 + 0.5·ln(2/3) = 0.346574 − 0.202733 = 0.143841
    expect(exactKl([Math.log(0.5), Math.log(0.5)], [Math.log(0.25), Math.log(0.75)], 2)[0]).toBeCloseTo(
      0.143841,
      6,
    );
    const random = new SeededRandom(5);
    const vocab = 257;
    const positions = 6;
    const tuned: number[] = [];
    const base: number[] = [];
    const expected: number[] = [];
    for (let p = 0; p < positions; p++) {
      const t = softmaxLog(Array.from({ length: vocab }, () => (random.nextUint32() / 2 ** 32) * 6));
      const b = softmaxLog(Array.from({ length: vocab }, () => (random.nextUint32() / 2 ** 32) * 6));
      tuned.push(...t);
      base.push(...b);
      const probabilitiesT = t.map(Math.exp);
      const probabilitiesB = b.map(Math.exp);
      expected.push(probabilitiesT.reduce((sum, pt, v) => sum + pt * Math.log(pt / probabilitiesB[v]!), 0));
    }
    const ours = exactKl(tuned, base, vocab);
    for (let p = 0; p < positions; p++) {
      expect(ours[p]).toBeCloseTo(expected[p]!, 12);
      expect(ours[p]).toBeGreaterThan(0);
    }
    expect(exactKl(tuned, tuned, vocab).every((value) => Math.abs(value) < 1e-15)).toBe(true);
  });

  it('zero-probability conventions and invalid distributions', () => {
    const inf = Number.NEGATIVE_INFINITY;
    expect(exactKl([0, inf], [Math.log(0.5), Math.log(0.5)], 2)[0]).toBeCloseTo(Math.log(2), 12);
    expect(exactKl([Math.log(0.5), Math.log(0.5)], [0, inf], 2)[0]).toBe(Number.POSITIVE_INFINITY);
    expect(() => exactKl([Math.log(0.3), Math.log(0.3)], [0, inf], 2)).toThrow(/not a full distribution/);
    expect(() => exactKl([0, inf, 0], [0, inf], 2)).toThrow(/multiples of vocab/);
  });

  it('from engine score results: needs distributions and the same tokens', () => {
    const score = (distributions: number[][] | undefined, tokenIds = [4, 7]): ScoreResult => ({
      id: 'r',
      tokenIds,
      tokens: tokenIds.map(String),
      logprobs: tokenIds.map(() => -0.5),
      ranks: tokenIds.map(() => 1),
      isGreedy: tokenIds.map(() => true),
      ...(distributions ? { distributions } : {}),
    });
    const p = [Math.log(0.5), Math.log(0.5)];
    const q = [Math.log(0.25), Math.log(0.75)];
    const result = exactKlFromScores([score([p, q])], [score([q, q])]);
    expect(result.perPosition[0]).toBeCloseTo(0.143841, 6);
    expect(result.perPosition[1]).toBe(0);
    expect(result.mean).toBeCloseTo(0.143841 / 2, 6);
    expect(() => exactKlFromScores([score(undefined)], [score([q, q])])).toThrow(/tuned\[0\]\.distributions/);
    expect(() => exactKlFromScores([score([p, q])], [score([q, q], [4, 8])])).toThrow(
      /tokenised the continuation/,
    );
    const traces = tracesFromScores([score([p, q]), score(undefined, [1, 2, 3])]);
    expect(Array.from(traces.offsets)).toEqual([0, 2, 5]);
    const shift = tokenShift(traces, traces);
    expect(shift.meanRankShift).toBe(0);
    expect(shift.topShiftedTokens).toEqual([]);
    // grouped by token id, reported by text: id 7 (' But') shifts twice by 3, id 4 once by 1
    const tunedScores = [
      { ...score(undefined, [4, 7, 7]), tokens: ['So', ' But', ' But'], ranks: [1, 1, 2] },
    ];
    const baseScores = [{ ...score(undefined, [4, 7, 7]), tokens: ['So', ' But', ' But'], ranks: [2, 4, 5] }];
    const byId = tokenShift(tracesFromScores(tunedScores), tracesFromScores(baseScores));
    expect(byId.topShiftedTokens).toEqual([
      { token: ' But', shifted: 2, occurrences: 2, meanShift: 3 },
      { token: 'So', shifted: 1, occurrences: 1, meanShift: 1 },
    ]);
    expect(byId.meanRankShift).toBeCloseTo(7 / 3, 12);
  });
});
