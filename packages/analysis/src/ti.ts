/**
 * The Transferability Index (PAPER.md §1), both published definitions, exactly as written:
 *
 * - **v1** (arXiv v1): ΔR_g = mean over the group of the relative gain (R_model − R_base) / R_base;
 *   TI_g = ΔR_g / ΔR_math × 100.
 * - **v2** (arXiv v2 / ICML): absolute gains ΔR_b, z-normalised by the group's standard deviation, signed
 *   square root, weighted by (100 − R_base) normalised within the group: DI_g; TI_g = DI_g / DI_math × 100.
 *
 * The paper's printed TI values are not reproducible from its printed scores with either formula; these
 * functions are never fitted to them. Undefined cases (a zero math gain, a zero base score in v1, a group
 * with no spread in v2) give `null` with a note, never a silent number.
 *
 * @module
 */
import type { BenchmarkGroup } from '@xfer/core';
import { ValidationError } from '@xfer/core';

/** Which published TI definition. */
export type TiFormula = 'v1' | 'v2';

/** The paper's benchmark ids and their groups (PAPER.md §1.1). */
export const paperBenchmarkGroups: Readonly<Record<string, BenchmarkGroup>> = {
  'math-500': 'math',
  aime24: 'math',
  aime25: 'math',
  olympiadbench: 'math',
  'gpqa-diamond': 'other',
  livecodebench: 'other',
  acpbench: 'other',
  headqa: 'other',
  coqa: 'non',
  ifeval: 'non',
  halueval: 'non',
  'mc-taco': 'non',
};

/** Scores in percent (0–100) by benchmark id. */
export type BenchmarkScores = Readonly<Record<string, number>>;

export interface TiOptions {
  formula: TiFormula;
  /** v2's σ_g: population (numpy's default, ddof 0) or sample (ddof 1) standard deviation. */
  standardDeviation?: 'population' | 'sample';
}

/** One benchmark's contribution to its group. */
export interface BenchmarkTerm {
  benchmark: string;
  base: number;
  model: number;
  /** R_model − R_base, in points. */
  delta: number;
  /** v1: the relative gain (R_model − R_base) / R_base (null where R_base = 0). */
  relativeGain?: number | null;
  /** v2: δ_b = ΔR_b / σ_g, s_b = sign(δ)·√|δ|, ŵ_b. */
  zScore?: number | null;
  signedRoot?: number | null;
  weight?: number | null;
}

export interface GroupIndex {
  group: BenchmarkGroup;
  benchmarks: BenchmarkTerm[];
  /** Mean absolute change in points (the paper's group "Average" column difference). */
  meanDelta: number | null;
  /** v1: ΔR_g (a fraction; ×100 for percent). v2: DI_g. Null where undefined. */
  index: number | null;
  /** v2: σ_g. */
  spread?: number;
}

export interface TiResult {
  formula: TiFormula;
  groups: Record<BenchmarkGroup, GroupIndex>;
  /** TI_other in percent, null where undefined (see `notes`). */
  tiOther: number | null;
  /** TI_non in percent, null where undefined. */
  tiNon: number | null;
  /** Why a value is null, in words. */
  notes: string[];
}

const groupOrder: BenchmarkGroup[] = ['math', 'other', 'non'];

/**
 * TI of one model against its base. Every benchmark of `groups` that appears in `model` must appear in
 * `base` (and vice versa); benchmarks without a group raise a ValidationError naming the benchmark.
 */
export function transferabilityIndex(
  model: BenchmarkScores,
  base: BenchmarkScores,
  groups: Readonly<Record<string, BenchmarkGroup>>,
  options: TiOptions,
): TiResult {
  const notes: string[] = [];
  const byGroup: Record<BenchmarkGroup, BenchmarkTerm[]> = { math: [], other: [], non: [] };
  const benchmarks = [...new Set([...Object.keys(model), ...Object.keys(base)])];
  for (const benchmark of benchmarks) {
    const group = groups[benchmark];
    if (group === undefined) {
      throw new ValidationError({
        field: benchmark,
        message: `benchmark '${benchmark}' has no group (math, other, non)`,
      });
    }
    const modelScore = model[benchmark];
    const baseScore = base[benchmark];
    if (modelScore === undefined || baseScore === undefined) {
      throw new ValidationError({
        field: benchmark,
        message: `benchmark '${benchmark}' is scored for the ${modelScore === undefined ? 'base' : 'model'} only`,
      });
    }
    for (const [who, value] of [
      ['model', modelScore],
      ['base', baseScore],
    ] as const) {
      if (!Number.isFinite(value)) {
        throw new ValidationError({
          field: benchmark,
          message: `${who} score is not a finite number: ${value}`,
        });
      }
    }
    byGroup[group].push({ benchmark, base: baseScore, model: modelScore, delta: modelScore - baseScore });
  }
  const result = {} as Record<BenchmarkGroup, GroupIndex>;
  for (const group of groupOrder) {
    const terms = byGroup[group];
    const meanDelta =
      terms.length === 0 ? null : terms.reduce((sum, term) => sum + term.delta, 0) / terms.length;
    if (terms.length === 0) {
      notes.push(`group ${group} has no benchmarks`);
      result[group] = { group, benchmarks: terms, meanDelta, index: null };
      continue;
    }
    result[group] =
      options.formula === 'v1'
        ? groupIndexV1(group, terms, meanDelta, notes)
        : groupIndexV2(group, terms, meanDelta, options.standardDeviation ?? 'population', notes);
  }
  const math = result.math.index;
  const ratio = (group: 'other' | 'non'): number | null => {
    const value = result[group].index;
    if (value === null || math === null) return null;
    if (math === 0) {
      notes.push(
        `TI_${group} undefined: zero math gain (${options.formula === 'v1' ? 'ΔR_math' : 'DI_math'} = 0)`,
      );
      return null;
    }
    return (value / math) * 100;
  };
  return { formula: options.formula, groups: result, tiOther: ratio('other'), tiNon: ratio('non'), notes };
}

function groupIndexV1(
  group: BenchmarkGroup,
  terms: BenchmarkTerm[],
  meanDelta: number | null,
  notes: string[],
): GroupIndex {
  let sum = 0;
  let defined = true;
  for (const term of terms) {
    if (term.base === 0) {
      term.relativeGain = null;
      defined = false;
      notes.push(`ΔR_${group} undefined: base score of ${term.benchmark} is 0 (relative gain divides by it)`);
    } else {
      term.relativeGain = term.delta / term.base;
      sum += term.relativeGain;
    }
  }
  return { group, benchmarks: terms, meanDelta, index: defined ? sum / terms.length : null };
}

function groupIndexV2(
  group: BenchmarkGroup,
  terms: BenchmarkTerm[],
  meanDelta: number | null,
  standardDeviation: 'population' | 'sample',
  notes: string[],
): GroupIndex {
  const n = terms.length;
  const mean = terms.reduce((sum, term) => sum + term.delta, 0) / n;
  const squares = terms.reduce((sum, term) => sum + (term.delta - mean) ** 2, 0);
  const denominator = standardDeviation === 'population' ? n : n - 1;
  const spread = denominator > 0 ? Math.sqrt(squares / denominator) : 0;
  const weightSum = terms.reduce((sum, term) => sum + (100 - term.base), 0);
  if (spread === 0) {
    for (const term of terms) Object.assign(term, { zScore: null, signedRoot: null, weight: null });
    if (terms.every((term) => term.delta === 0)) {
      return { group, benchmarks: terms, meanDelta, index: 0, spread };
    }
    notes.push(`DI_${group} undefined: every benchmark changed by the same amount, so σ_${group} = 0`);
    return { group, benchmarks: terms, meanDelta, index: null, spread };
  }
  if (weightSum === 0) {
    notes.push(`DI_${group} undefined: every base score is 100, so the weights 100 − R_base sum to 0`);
    return { group, benchmarks: terms, meanDelta, index: null, spread };
  }
  let index = 0;
  for (const term of terms) {
    term.zScore = term.delta / spread;
    term.signedRoot = Math.sign(term.zScore) * Math.sqrt(Math.abs(term.zScore));
    term.weight = (100 - term.base) / weightSum;
    index += term.weight * term.signedRoot;
  }
  return { group, benchmarks: terms, meanDelta, index, spread };
}
