import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { paperBenchmarkGroups, transferabilityIndex } from './ti.js';

/** PAPER.md §3.6, Table 1 (UniReason, Qwen3-14B-Base), scores in percent. */
const base = {
  aime24: 13.0,
  aime25: 9.3,
  'math-500': 60.4,
  olympiadbench: 27.9,
  'gpqa-diamond': 42.6,
  livecodebench: 29.7,
  acpbench: 10.7,
  headqa: 37.6,
  coqa: 10.0,
  'mc-taco': 67.7,
  ifeval: 69.2,
  halueval: 35.7,
};
const sftThink = {
  aime24: 52.0,
  aime25: 37.0,
  'math-500': 85.0,
  olympiadbench: 25.0,
  'gpqa-diamond': 55.9,
  livecodebench: 21.9,
  acpbench: 68.6,
  headqa: 34.8,
  coqa: 1.7,
  'mc-taco': 38.2,
  ifeval: 42.3,
  halueval: 2.3,
};
const sftNoThink = {
  aime24: 16.0,
  aime25: 13.0,
  'math-500': 77.2,
  olympiadbench: 22.7,
  'gpqa-diamond': 48.7,
  livecodebench: 23.5,
  acpbench: 69.3,
  headqa: 35.0,
  coqa: 5.3,
  'mc-taco': 66.1,
  ifeval: 41.4,
  halueval: 3.3,
};
const rl = {
  aime24: 55.7,
  aime25: 38.0,
  'math-500': 87.8,
  olympiadbench: 33.8,
  'gpqa-diamond': 57.7,
  livecodebench: 40.6,
  acpbench: 65.4,
  headqa: 40.2,
  coqa: 28.2,
  'mc-taco': 74.0,
  ifeval: 70.0,
  halueval: 40.7,
};

describe('TI v1 (mean relative gain) on the paper Table 1', () => {
  it('RL: hand arithmetic', () => {
    // math:  42.7/13.0 = 3.284615, 28.7/9.3 = 3.086022, 27.4/60.4 = 0.453642, 5.9/27.9 = 0.211470
    //        ΔR_math = (3.284615 + 3.086022 + 0.453642 + 0.211470) / 4 = 7.035749 / 4 = 1.758937
    // other: 15.1/42.6 = 0.354460, 10.9/29.7 = 0.367003, 54.7/10.7 = 5.112150, 2.6/37.6 = 0.069149
    //        ΔR_other = 5.902762 / 4 = 1.475690
    // non:   18.2/10.0 = 1.82, 6.3/67.7 = 0.093058, 0.8/69.2 = 0.011561, 5.0/35.7 = 0.140056
    //        ΔR_non = 2.064675 / 4 = 0.516169
    // TI_other = 1.475690 / 1.758937 × 100 = 83.897;  TI_non = 0.516169 / 1.758937 × 100 = 29.345
    const result = transferabilityIndex(rl, base, paperBenchmarkGroups, { formula: 'v1' });
    expect(result.groups.math.index).toBeCloseTo(1.758937, 5);
    expect(result.groups.other.index).toBeCloseTo(1.47569, 5);
    expect(result.groups.non.index).toBeCloseTo(0.516169, 5);
    expect(result.tiOther).toBeCloseTo(83.897, 2);
    expect(result.tiNon).toBeCloseTo(29.345, 2);
    expect(result.notes).toEqual([]);
  });

  it('SFT think and no-think: hand arithmetic', () => {
    // think math: 39/13 = 3, 27.7/9.3 = 2.978495, 24.6/60.4 = 0.407285, −2.9/27.9 = −0.103943 → 6.281837/4 = 1.570459
    // think other: 13.3/42.6 = 0.312207, −7.8/29.7 = −0.262626, 57.9/10.7 = 5.411215, −2.8/37.6 = −0.074468
    //              → 5.386328/4 = 1.346582; TI_other = 1.346582/1.570459 × 100 = 85.744
    // think non: −8.3/10 = −0.83, −29.5/67.7 = −0.435746, −26.9/69.2 = −0.388728, −33.4/35.7 = −0.935574
    //            → −2.590048/4 = −0.647512; TI_non = −0.647512/1.570459 × 100 = −41.231
    const think = transferabilityIndex(sftThink, base, paperBenchmarkGroups, { formula: 'v1' });
    expect(think.tiOther).toBeCloseTo(85.744, 2);
    expect(think.tiNon).toBeCloseTo(-41.231, 2);
    // no-think math: 3/13 = 0.230769, 3.7/9.3 = 0.397849, 16.8/60.4 = 0.278146, −5.2/27.9 = −0.186380
    //                → 0.720384/4 = 0.180096; other → 1.335481; non → −0.450733
    //                TI_other = 1.335481/0.180096 × 100 = 741.54; TI_non = −0.450733/0.180096 × 100 = −250.27
    const noThink = transferabilityIndex(sftNoThink, base, paperBenchmarkGroups, { formula: 'v1' });
    expect(noThink.tiOther).toBeCloseTo(741.538, 2);
    expect(noThink.tiNon).toBeCloseTo(-250.273, 2);
  });
});

describe('TI v2 (z-normalised signed-sqrt, weights 100 − base) on the paper Table 1', () => {
  it('RL: hand arithmetic', () => {
    // math gains 42.7, 28.7, 27.4, 5.9: mean 26.175, population σ = √((16.525² + 2.525² + 1.225² + 20.275²)/4)
    //   = √(692.0475) = 13.153208 (= √(173.011875)... per 4: (273.08 + 6.38 + 1.50 + 411.08)/4 = 173.01 → σ = 13.1532)
    //   δ = 3.246354, 2.181975, 2.083139, 0.448563;  s = √δ = 1.801765, 1.477152, 1.443309, 0.669746
    //   w = 87.0, 90.7, 39.6, 72.1 (sum 289.4) → DI_math = (87·1.801765 + 90.7·1.477152 + 39.6·1.443309
    //   + 72.1·0.669746) / 289.4 = 396.174 / 289.4 = 1.368953
    // other gains 15.1, 10.9, 54.7, 2.6: σ = 20.068305; s = 0.867427, 0.736984, 1.650967, 0.359941;
    //   w = 57.4, 70.3, 89.3, 62.4 (sum 279.4) → DI_other = 271.4918 / 279.4 = 0.971696
    // non gains 18.2, 6.3, 0.8, 5.0: σ = 6.462343; s = 1.678188, 0.987359, 0.351844, 0.879610;
    //   w = 90, 32.3, 30.8, 64.3 (sum 217.4) → DI_non = 250.3244 / 217.4 = 1.151446
    // TI_other = 0.971696/1.368953 × 100 = 70.981;  TI_non = 1.151446/1.368953 × 100 = 84.111
    const result = transferabilityIndex(rl, base, paperBenchmarkGroups, { formula: 'v2' });
    expect(result.groups.math.spread).toBeCloseTo(13.153208, 5);
    expect(result.groups.math.index).toBeCloseTo(1.368953, 5);
    expect(result.groups.other.index).toBeCloseTo(0.971696, 5);
    expect(result.groups.non.index).toBeCloseTo(1.151446, 5);
    expect(result.tiOther).toBeCloseTo(70.981, 2);
    expect(result.tiNon).toBeCloseTo(84.111, 2);
    const aime = result.groups.math.benchmarks.find((term) => term.benchmark === 'aime24')!;
    expect(aime.weight).toBeCloseTo(87 / 289.4, 10);
    expect(aime.signedRoot).toBeCloseTo(1.801765, 5);
  });

  it('SFT think: negative gains keep their sign through the signed square root', () => {
    // math gains 39, 27.7, 24.6, −2.9: σ = 15.396591; s(−2.9) = −√(2.9/15.396591) = −0.433997; DI_math = 0.963667
    // other gains 13.3, −7.8, 57.9, −2.8: σ = 25.883827; DI_other = 0.413712 → TI_other = 42.931
    // non gains −8.3, −29.5, −26.9, −33.4: σ = 9.648931; all s < 0; DI_non = −1.430576 → TI_non = −148.451
    const result = transferabilityIndex(sftThink, base, paperBenchmarkGroups, { formula: 'v2' });
    const olympiad = result.groups.math.benchmarks.find((term) => term.benchmark === 'olympiadbench')!;
    expect(olympiad.signedRoot).toBeCloseTo(-0.433997, 5);
    expect(result.tiOther).toBeCloseTo(42.931, 2);
    expect(result.tiNon).toBeCloseTo(-148.451, 2);
    // The paper prints +52.2 and −104.1: the printed formula does not reproduce them (PAPER.md §1.3).
    expect(Math.abs(result.tiOther! - 52.2)).toBeGreaterThan(1);
  });

  it('population and sample σ give the same TI when groups have equal sizes', () => {
    const population = transferabilityIndex(sftNoThink, base, paperBenchmarkGroups, { formula: 'v2' });
    const sample = transferabilityIndex(sftNoThink, base, paperBenchmarkGroups, {
      formula: 'v2',
      standardDeviation: 'sample',
    });
    // DI scales by (σ_pop/σ_sample)^½ = (3/4)^¼ in every group, so the ratio is unchanged: 96.739, −239.572.
    expect(sample.groups.math.index! / population.groups.math.index!).toBeCloseTo((3 / 4) ** 0.25, 10);
    expect(sample.tiOther).toBeCloseTo(population.tiOther!, 10);
    expect(population.tiOther).toBeCloseTo(96.739, 2);
    expect(population.tiNon).toBeCloseTo(-239.572, 2);
  });
});

describe('degenerate inputs', () => {
  const groups = { m1: 'math', m2: 'math', o1: 'other', o2: 'other', n1: 'non', n2: 'non' } as const;
  const start = { m1: 40, m2: 50, o1: 30, o2: 20, n1: 60, n2: 70 };

  it('zero math gain gives null TI with a note, in both formulas', () => {
    const model = { ...start, m1: 45, m2: 45, o1: 35 };
    const v1 = transferabilityIndex(model, start, groups, { formula: 'v1' });
    // ΔR_math = (5/40 − 5/50)/2 = 0.0125, not zero; a real zero needs equal relative gains of opposite sign.
    expect(v1.tiOther).not.toBeNull();
    const flat = { ...start, o1: 35 };
    for (const formula of ['v1', 'v2'] as const) {
      const result = transferabilityIndex(flat, start, groups, { formula });
      expect(result.groups.math.index).toBe(0);
      expect(result.tiOther).toBeNull();
      expect(result.tiNon).toBeNull();
      expect(result.notes.join(' ')).toMatch(/zero math gain/);
    }
  });

  it('v2 with equal gains in a group (σ = 0) is undefined, not infinite', () => {
    const model = { ...start, m1: 50, m2: 55, o1: 33, o2: 23 };
    const result = transferabilityIndex(model, start, groups, { formula: 'v2' });
    expect(result.groups.other.index).toBeNull();
    expect(result.tiOther).toBeNull();
    expect(result.notes.join(' ')).toMatch(/σ_other = 0/);
    // the non group did not move at all: DI_non = 0 exactly, TI_non = 0
    expect(result.tiNon).toBe(0);
  });

  it('v1 with a zero base score is undefined for that group', () => {
    const zeroBase = { ...start, o1: 0 };
    const result = transferabilityIndex({ ...start, m1: 50, o1: 10 }, zeroBase, groups, { formula: 'v1' });
    expect(result.groups.other.index).toBeNull();
    expect(result.tiOther).toBeNull();
    expect(result.tiNon).toBe(0);
  });

  it('an unknown benchmark or a one-sided score is a ValidationError naming it', () => {
    const error = (() => {
      try {
        transferabilityIndex({ ...start, mystery: 3 }, { ...start, mystery: 2 }, groups, { formula: 'v1' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('mystery');
    expect(() =>
      transferabilityIndex({ ...start, m1: Number.NaN }, start, groups, { formula: 'v1' }),
    ).toThrow(/finite/);
    const { m1: _dropped, ...missing } = start;
    expect(() => transferabilityIndex(missing, start, groups, { formula: 'v2' })).toThrow(/base only/);
  });
});
