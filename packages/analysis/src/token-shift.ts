/**
 * Token-space distribution shift (PAPER.md §6): how far a tuned model's next-token distribution moved from
 * its base on the same text (the tuned model's own responses).
 *
 * - (a) `paperKl`: the estimator of the released `calculate_KL.py`, exactly: per sample, over the aligned
 *   tokens (up to the shorter sequence), mean of log(p_tuned + 1e-10) − log(p_base + 1e-10) where p is the
 *   probability of the actual token; then |mean over samples|. (Skipping the first response token is a
 *   quirk of the producer, `calculate_logits_and_ranks_token_level.py`, not of this estimator.)
 * - (b) `exactKl`: KL(π_tuned ‖ π_base) = Σ_v π_t(v) log(π_t(v)/π_b(v)) per position from full distributions.
 * - (c) rank shift: per token |rank_base − rank_tuned|, its mean, the share of tokens whose rank changed, and
 *   the tokens that shifted most often, with counts.
 *
 * Inputs are columnar `TokenTraces` built from engine `ScoreResult`s or from the paper's released
 * token-loss JSON files.
 *
 * @module
 */
import { parseJson, parseWith, type ScoreResult, ValidationError } from '@xfer/core';
import { z } from 'zod';

/**
 * Per-token scores of a set of samples, flat and columnar: sample i owns positions
 * `offsets[i] .. offsets[i + 1]`.
 */
export interface TokenTraces {
  model?: string;
  dataset?: string;
  offsets: Int32Array;
  /** Natural-log probability of each actual token (−loss). */
  logprobs: Float64Array;
  /** Rank of each actual token under the model (1 = argmax). */
  ranks: Int32Array;
  /** Token ids, when known (grouping by id is faster than by text). */
  tokenIds?: Int32Array;
  /** Decoded token texts, when known. */
  tokens?: string[];
}

/** The paper's smoothing constant in `calculate_KL.py`. */
export const paperKlEpsilon = 1e-10;

/** How samples of different lengths are aligned: `'shorter'` (the paper's code) or `'strict'` (error). */
export type TokenAlignment = 'shorter' | 'strict';

export interface TokenShiftOptions {
  align?: TokenAlignment;
  /** How many most-shifted tokens to report (default 20). */
  topTokens?: number;
}

/** A token whose rank moved, with how often. */
export interface ShiftedToken {
  token: string;
  /** Aligned occurrences whose rank changed. */
  shifted: number;
  /** All aligned occurrences. */
  occurrences: number;
  /** Mean |Δrank| over the occurrences that changed. */
  meanShift: number;
}

export interface TokenShiftResult {
  /** (a) The paper's estimator: |mean over samples of mean over tokens of Δ log p|. */
  paperKl: number;
  /** Per-sample means before the absolute value (NaN for a sample with no aligned token). */
  perSampleKl: number[];
  /** (c) Mean |rank_base − rank_tuned| over every aligned token. */
  meanRankShift: number;
  /** Share of aligned tokens whose rank changed. */
  shiftedShare: number;
  perSampleRankShift: number[];
  topShiftedTokens: ShiftedToken[];
  samples: number;
  alignedTokens: number;
  /** Samples whose two sides had different lengths (truncated to the shorter). */
  truncatedSamples: number;
  /** Samples with no aligned token: left out of the means. */
  emptySamples: number;
  /** Aligned positions whose token id/text differs between the two sides. */
  tokenMismatches: number;
}

/**
 * log(exp(logprob) + 1e-10), as `calculate_KL.py` computes log(p + 1e-10). Where ε/p < 1e-4 it uses
 * log p + log1p(ε/p) with the log1p series to x³ (truncation error < 2.5e-17): one exp instead of an exp
 * and a log, same value to rounding.
 */
export function smoothedLog(logprob: number): number {
  // ε/p < 1e-4 ⟺ −logprob < ln(1e6) ≈ 13.8; there e^{−logprob} comes from expSmall (relative error < 1e-12,
  // so the absolute error of the result stays below 1e-16).
  if (logprob > -13.8) {
    const x = paperKlEpsilon * expSmall(-logprob);
    if (x < 1e-4) return logprob + x * (1 - x * (0.5 - x / 3));
  }
  return Math.log(Math.exp(logprob) + paperKlEpsilon);
}

const powersOfTwo = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/** e^y for 0 ≤ y < 14: y = k·ln 2 + r, |r| ≤ ln 2 / 2, e^r by its Taylor series to r¹¹ (relative error < 1e-13). */
function expSmall(y: number): number {
  const k = Math.floor(y * Math.LOG2E + 0.5);
  const r = y - k * Math.LN2;
  const series =
    1 +
    r *
      (1 +
        r *
          (1 / 2 +
            r *
              (1 / 6 +
                r *
                  (1 / 24 +
                    r *
                      (1 / 120 +
                        r *
                          (1 / 720 +
                            r *
                              (1 / 5040 +
                                r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r / 39916800))))))))));
  return series * powersOfTwo[k]!;
}

const sideLabel = { tuned: 'tuned', base: 'base' } as const;

function sampleCount(traces: TokenTraces): number {
  return traces.offsets.length - 1;
}

/**
 * (a) and (c) over two traces of the same texts. Different sample counts are a ValidationError; different
 * lengths within a sample truncate to the shorter (`align: 'shorter'`, the paper's code) or throw
 * (`align: 'strict'`), naming the sample.
 */
export function tokenShift(
  tuned: TokenTraces,
  base: TokenTraces,
  options: TokenShiftOptions = {},
): TokenShiftResult {
  const align = options.align ?? 'shorter';
  const samples = sampleCount(tuned);
  if (samples !== sampleCount(base)) {
    throw new ValidationError({
      field: 'results',
      message: `tuned has ${samples} samples, base has ${sampleCount(base)}: token shift needs the same texts`,
    });
  }
  const byId = tuned.tokenIds !== undefined && base.tokenIds !== undefined;
  const tunedKeys = byId ? tuned.tokenIds : undefined;
  const baseKeys = byId ? base.tokenIds : undefined;
  const tunedTexts = tuned.tokens;
  const baseTexts = base.tokens;
  const compareTexts = !byId && tunedTexts !== undefined && baseTexts !== undefined;
  const perSampleKl: number[] = new Array(samples);
  const perSampleRankShift: number[] = new Array(samples);
  let klSum = 0;
  let klCount = 0;
  let rankTotal = 0;
  let shiftedTotal = 0;
  let aligned = 0;
  let truncated = 0;
  let empty = 0;
  let mismatches = 0;
  const shiftedCounts = new Map<
    string,
    { shifted: number; occurrences: number; shiftSum: number; position: number }
  >();
  const idTables = byId ? idCountTables(tunedKeys!) : undefined;
  for (let sample = 0; sample < samples; sample++) {
    const tunedStart = tuned.offsets[sample]!;
    const baseStart = base.offsets[sample]!;
    const tunedLength = tuned.offsets[sample + 1]! - tunedStart;
    const baseLength = base.offsets[sample + 1]! - baseStart;
    if (tunedLength !== baseLength) {
      if (align === 'strict') {
        throw new ValidationError({
          field: `results[${sample}].token_losses`,
          message: `tuned has ${tunedLength} tokens, base has ${baseLength} (use align 'shorter' to truncate, as the paper's code does)`,
        });
      }
      truncated++;
    }
    const length = Math.min(tunedLength, baseLength);
    if (length === 0) {
      perSampleKl[sample] = Number.NaN;
      perSampleRankShift[sample] = Number.NaN;
      empty++;
      continue;
    }
    let logSum = 0;
    let rankSum = 0;
    for (let j = 0; j < length; j++) {
      const t = tunedStart + j;
      const b = baseStart + j;
      logSum += smoothedLog(tuned.logprobs[t]!) - smoothedLog(base.logprobs[b]!);
      const delta = Math.abs(base.ranks[b]! - tuned.ranks[t]!);
      rankSum += delta;
      if (idTables !== undefined) {
        const id = tunedKeys![t]!;
        if (id !== baseKeys![b]) mismatches++;
        idTables.occurrences[id]!++;
        if (tunedTexts !== undefined && idTables.position[id] === -1) idTables.position[id] = t;
        if (delta !== 0) {
          idTables.shifted[id]!++;
          idTables.shiftSum[id]! += delta;
        }
      } else if (tunedTexts !== undefined) {
        const key = tunedTexts[t]!;
        if (compareTexts && key !== baseTexts![b]) mismatches++;
        let entry = shiftedCounts.get(key);
        if (entry === undefined) {
          entry = { shifted: 0, occurrences: 0, shiftSum: 0, position: t };
          shiftedCounts.set(key, entry);
        }
        entry.occurrences++;
        if (delta !== 0) {
          entry.shifted++;
          entry.shiftSum += delta;
        }
      }
      if (delta !== 0) shiftedTotal++;
    }
    perSampleKl[sample] = logSum / length;
    perSampleRankShift[sample] = rankSum / length;
    klSum += logSum / length;
    klCount++;
    rankTotal += rankSum;
    aligned += length;
  }
  if (align === 'strict' && mismatches > 0) {
    throw new ValidationError({
      field: 'token_losses',
      message: `${mismatches} aligned positions hold different tokens`,
    });
  }
  const limit = options.topTokens ?? 20;
  const top =
    idTables !== undefined
      ? topById(idTables, limit, tunedTexts)
      : [...shiftedCounts.entries()]
          .filter(([, entry]) => entry.shifted > 0)
          .sort(
            ([keyA, a], [keyB, b]) =>
              b.shifted - a.shifted || b.shiftSum - a.shiftSum || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0),
          )
          .slice(0, limit)
          .map(([key, entry]) => ({
            token: key,
            shifted: entry.shifted,
            occurrences: entry.occurrences,
            meanShift: entry.shiftSum / entry.shifted,
          }));
  return {
    paperKl: klCount === 0 ? Number.NaN : Math.abs(klSum / klCount),
    perSampleKl,
    meanRankShift: aligned === 0 ? Number.NaN : rankTotal / aligned,
    shiftedShare: aligned === 0 ? Number.NaN : shiftedTotal / aligned,
    perSampleRankShift,
    topShiftedTokens: top,
    samples,
    alignedTokens: aligned,
    truncatedSamples: truncated,
    emptySamples: empty,
    tokenMismatches: mismatches,
  };
}

interface IdTables {
  shifted: Int32Array;
  occurrences: Int32Array;
  shiftSum: Float64Array;
  /** First position of each id (to recover its text), −1 if unseen. */
  position: Int32Array;
}

function idCountTables(ids: Int32Array): IdTables {
  let max = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0) throw new ValidationError({ field: `tokenIds[${i}]`, message: `negative token id ${id}` });
    if (id > max) max = id;
  }
  const size = max + 1;
  return {
    shifted: new Int32Array(size),
    occurrences: new Int32Array(size),
    shiftSum: new Float64Array(size),
    position: new Int32Array(size).fill(-1),
  };
}

/** The `limit` ids shifted most often (ties: larger total shift, then smaller id). */
function topById(tables: IdTables, limit: number, texts: readonly string[] | undefined): ShiftedToken[] {
  const before = (a: number, b: number) =>
    tables.shifted[a]! > tables.shifted[b]! ||
    (tables.shifted[a] === tables.shifted[b] &&
      (tables.shiftSum[a]! > tables.shiftSum[b]! || (tables.shiftSum[a] === tables.shiftSum[b] && a < b)));
  // partial selection: keep the best `limit` ids in order (ids ascend, so ties already resolve to the smaller)
  const best: number[] = [];
  if (limit > 0) {
    for (let id = 0; id < tables.shifted.length; id++) {
      if (tables.shifted[id] === 0) continue;
      if (best.length === limit && !before(id, best[limit - 1]!)) continue;
      let position = best.length === limit ? limit - 1 : best.length;
      while (position > 0 && before(id, best[position - 1]!)) position--;
      best.splice(position, 0, id);
      if (best.length > limit) best.pop();
    }
  }
  return best.map((id) => ({
    token: texts?.[tables.position[id]!] ?? String(id),
    shifted: tables.shifted[id]!,
    occurrences: tables.occurrences[id]!,
    meanShift: tables.shiftSum[id]! / tables.shifted[id]!,
  }));
}

/**
 * (b) Exact KL(π_tuned ‖ π_base) at each position, from flat row-major `[positions, vocab]` log-probability
 * matrices: Σ_v exp(t_v)·(t_v − b_v). Terms with π_tuned(v) = 0 contribute 0; π_base(v) = 0 where
 * π_tuned(v) > 0 gives +Infinity.
 */
export function exactKl(tuned: ArrayLike<number>, base: ArrayLike<number>, vocabSize: number): Float64Array {
  if (tuned.length !== base.length || tuned.length % vocabSize !== 0) {
    throw new ValidationError({
      field: 'distributions',
      message: `tuned has ${tuned.length} values, base ${base.length}: expected equal multiples of vocab ${vocabSize}`,
    });
  }
  const positions = tuned.length / vocabSize;
  const result = new Float64Array(positions);
  for (let p = 0; p < positions; p++) {
    const offset = p * vocabSize;
    let sum = 0;
    let mass = 0;
    for (let v = 0; v < vocabSize; v++) {
      const t = tuned[offset + v]!;
      if (t === Number.NEGATIVE_INFINITY) continue;
      const probability = Math.exp(t);
      mass += probability;
      sum += probability * (t - base[offset + v]!);
    }
    if (Math.abs(mass - 1) > 1e-3) {
      throw new ValidationError({
        field: `distributions[${p}]`,
        message: `tuned log-probabilities sum to probability ${mass.toFixed(6)}, not 1: not a full distribution`,
      });
    }
    result[p] = sum;
  }
  return result;
}

/** Exact KL per position from engine score results that carry `distributions` (score with fullDistribution). */
export function exactKlFromScores(
  tuned: readonly ScoreResult[],
  base: readonly ScoreResult[],
): { mean: number; perPosition: number[]; perSample: number[] } {
  if (tuned.length !== base.length) {
    throw new ValidationError({
      field: 'results',
      message: `tuned has ${tuned.length} results, base has ${base.length}`,
    });
  }
  const perPosition: number[] = [];
  const perSample: number[] = [];
  tuned.forEach((result, index) => {
    const other = base[index]!;
    for (const [side, score] of [
      [sideLabel.tuned, result],
      [sideLabel.base, other],
    ] as const) {
      if (score.distributions === undefined) {
        throw new ValidationError({
          field: `${side}[${index}].distributions`,
          message: 'no full distributions: score with fullDistribution: true on an engine that supports it',
        });
      }
    }
    if (
      result.tokenIds.length !== other.tokenIds.length ||
      result.tokenIds.some((id, j) => id !== other.tokenIds[j])
    ) {
      throw new ValidationError({
        field: `results[${index}].tokenIds`,
        message: 'tuned and base tokenised the continuation differently: exact KL needs the same tokens',
      });
    }
    const tunedRows = result.distributions!;
    const baseRows = other.distributions!;
    if (tunedRows.length !== baseRows.length) {
      throw new ValidationError({
        field: `results[${index}].distributions`,
        message: 'different numbers of positions',
      });
    }
    let sum = 0;
    tunedRows.forEach((row, position) => {
      const baseRow = baseRows[position]!;
      if (row.length !== baseRow.length) {
        throw new ValidationError({
          field: `results[${index}].distributions[${position}]`,
          message: `vocabulary sizes differ: ${row.length} vs ${baseRow.length}`,
        });
      }
      const value = exactKl(row, baseRow, row.length)[0]!;
      perPosition.push(value);
      sum += value;
    });
    perSample.push(tunedRows.length === 0 ? Number.NaN : sum / tunedRows.length);
  });
  const mean =
    perPosition.length === 0 ? Number.NaN : perPosition.reduce((a, b) => a + b, 0) / perPosition.length;
  return { mean, perPosition, perSample };
}

/** Columnar traces from engine score results (one per sample, in order). */
export function tracesFromScores(results: readonly ScoreResult[], model?: string): TokenTraces {
  const total = results.reduce((sum, result) => sum + result.logprobs.length, 0);
  const offsets = new Int32Array(results.length + 1);
  const logprobs = new Float64Array(total);
  const ranks = new Int32Array(total);
  const tokenIds = new Int32Array(total);
  const tokens: string[] = new Array(total);
  let cursor = 0;
  results.forEach((result, index) => {
    const n = result.logprobs.length;
    if (result.ranks.length !== n || result.tokenIds.length !== n || result.tokens.length !== n) {
      throw new ValidationError({
        field: `results[${index}]`,
        message: `logprobs (${n}), ranks (${result.ranks.length}), tokenIds (${result.tokenIds.length}) and tokens (${result.tokens.length}) differ in length`,
      });
    }
    for (let j = 0; j < n; j++) {
      logprobs[cursor + j] = result.logprobs[j]!;
      ranks[cursor + j] = result.ranks[j]!;
      tokenIds[cursor + j] = result.tokenIds[j]!;
      tokens[cursor + j] = result.tokens[j]!;
    }
    cursor += n;
    offsets[index + 1] = cursor;
  });
  return { ...(model === undefined ? {} : { model }), offsets, logprobs, ranks, tokenIds, tokens };
}

/** The paper's released token-loss file (`calculate_logits_and_ranks_token_level.py` output). */
export const TokenLossFileSchema = z.object({
  model: z.string(),
  dataset: z.string(),
  results: z.array(
    z.object({
      avg_loss: z.number().nullable().optional(),
      perplexity: z.number().nullable().optional(),
      token_losses: z.array(
        z.object({
          loss: z.number().nonnegative(),
          token: z.string(),
          rank: z.number().int().positive(),
        }),
      ),
    }),
  ),
});
export type TokenLossFile = z.infer<typeof TokenLossFileSchema>;

/** Columnar traces from a parsed token-loss file: logprob = −loss. */
export function tracesFromTokenLossFile(file: TokenLossFile): TokenTraces {
  const total = file.results.reduce((sum, result) => sum + result.token_losses.length, 0);
  const offsets = new Int32Array(file.results.length + 1);
  const logprobs = new Float64Array(total);
  const ranks = new Int32Array(total);
  const tokens: string[] = new Array(total);
  let cursor = 0;
  file.results.forEach((result, index) => {
    for (const entry of result.token_losses) {
      logprobs[cursor] = -entry.loss;
      ranks[cursor] = entry.rank;
      tokens[cursor] = entry.token;
      cursor++;
    }
    offsets[index + 1] = cursor;
  });
  return { model: file.model, dataset: file.dataset, offsets, logprobs, ranks, tokens };
}

/** Parse the text of a token-loss file, naming the file and field of any problem. */
export function parseTokenLossFile(text: string, file?: string): TokenLossFile {
  const where = file === undefined ? {} : { file };
  return parseWith(TokenLossFileSchema, parseJson(text, where), where);
}
