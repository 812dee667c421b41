import { describe, expect, it } from 'vitest';
import { judge, type ReproModelResult } from './repro.js';

function model(recipe: string | null, math: number, non: number, tiNon = 0): ReproModelResult {
  const interval = (value: number) => ({ value, low: value - 2, high: value + 2 });
  const point = { formula: 'v1', groups: {}, tiOther: 0, tiNon, notes: [] };
  return {
    name: recipe ?? 'base',
    recipe,
    evalRunId: 'run',
    groups: { math: interval(math), other: interval(20), non: interval(non) },
    benchmarks: {},
    ...(recipe ? { ti: { v1: { point }, v2: { point } } as unknown as ReproModelResult['ti'] } : {}),
  };
}

describe('judge', () => {
  it('sees the paper’s finding when RL gains on math and keeps the non-reasoning group while SFT loses it', () => {
    const finding = judge([model(null, 12, 38), model('sft-think', 30, 25, -80), model('rl', 25, 39, 10)]);
    expect(finding).toMatchObject({ rlTransfers: true, sftForgets: true });
    expect(finding.statement).toMatch(/finding \(RL transfers, SFT forgets\) appeared/);
  });

  it('refuses to read TI when a model did not gain on math', () => {
    const finding = judge([model(null, 12, 38), model('sft-think', 1, 23, 61), model('rl', 12, 38, -190)]);
    expect(finding.rlTransfers).toBe(false);
    expect(finding.sftForgets).toBe(true);
    expect(finding.statement).toMatch(/sft-think, rl did not raise math beyond its interval/);
    expect(finding.statement).toMatch(/appeared only in part \(SFT forgets\)/);
  });

  it('does not call a change inside the intervals forgetting', () => {
    const finding = judge([model(null, 12, 38), model('sft-no-think', 20, 36)]);
    expect(finding.sftForgets).toBe(false);
    expect(finding.statement).toMatch(/did not appear/);
  });

  it('names which SFT model forgot when only one did', () => {
    const finding = judge([model(null, 20, 30), model('sft-think', 2, 14), model('sft-no-think', 6, 26)]);
    expect(finding.sftForgets).toBe(false);
    expect(finding.statement).toMatch(
      /sft-think lowered non-reasoning accuracy below the base's interval, sft-no-think did not/,
    );
    expect(finding.statement).not.toMatch(/SFT did not clearly lower/);
  });
});
