import {
  type BenchmarkItem,
  FinishReasonSchema,
  parseJson,
  parseWith,
  type ScoreResult,
  ValidationError,
  type Verdict,
} from '@xfer/core';
import { z } from 'zod';
import { answerPositionBias, type PositionBiasReport } from './analysis/position-bias.js';
import type { Benchmark, BenchmarkSample } from './registry/benchmark.js';
import { auditGraders, type GraderDisagreement } from './scorers/math/math-scorers.js';
import type { Scorer } from './scorers/types.js';

/** One line of a responses file. */
export const ResponseLineSchema = z
  .object({
    id: z.union([z.string().min(1), z.number().int().nonnegative()]),
    response: z.string().optional(),
    finish_reason: FinishReasonSchema.optional(),
    finishReason: FinishReasonSchema.optional(),
    sample: z.number().int().nonnegative().optional(),
    /** Log-likelihood benchmarks: the summed log-likelihood of each choice, in choice order. */
    loglikelihoods: z.array(z.number()).optional(),
  })
  .refine((line) => line.response !== undefined || line.loglikelihoods !== undefined, {
    message: 'a line needs "response" (or "loglikelihoods" for log-likelihood benchmarks)',
    path: ['response'],
  });
export type ResponseLine = z.infer<typeof ResponseLineSchema>;

/** One output line: the primary grader's verdict, plus the other graders' side by side. */
export interface VerdictLine {
  id: string;
  sample: number;
  extracted: string | null;
  correct: boolean;
  grader: string;
  graderVersion: string;
  score: number;
  details: Record<string, unknown>;
  others: { grader: string; correct: boolean; extracted: string | null }[];
}

export interface ScoreResponsesResult {
  lines: VerdictLine[];
  metrics: Record<string, number>;
  accuracy: number;
  n: number;
  audit: { disagreements: GraderDisagreement[]; counts: Record<string, number> } | undefined;
  positionBias: PositionBiasReport | undefined;
  /** `accuracy=<x> n=<n>` plus the benchmark's metric-specific figures. */
  summary: string;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function pickScorers(benchmark: Benchmark, grader: string | undefined): Scorer[] {
  const all = [benchmark.scorers.primary, ...benchmark.scorers.extra];
  if (grader === undefined) return all;
  const chosen = all.find((scorer) => scorer.name === grader);
  if (chosen === undefined) {
    throw new ValidationError({
      field: 'grader',
      message: `benchmark ${benchmark.id} has no grader "${grader}"; available: ${all.map((scorer) => scorer.name).join(', ')}`,
    });
  }
  return [chosen, ...all.filter((scorer) => scorer !== chosen)];
}

function resolveItem(
  id: string | number,
  byId: ReadonlyMap<string, BenchmarkItem>,
  items: readonly BenchmarkItem[],
): BenchmarkItem | undefined {
  if (typeof id === 'string') return byId.get(id) ?? (/^\d+$/.test(id) ? items[Number(id)] : undefined);
  return items[id];
}

function loglikelihoodInputs(
  line: ResponseLine,
  item: BenchmarkItem,
  where: { file: string; line: number },
): ScoreResult[] {
  const values = line.loglikelihoods;
  const choices = item.choices ?? [];
  if (values === undefined || values.length !== choices.length) {
    throw new ValidationError({
      code: 'INVALID_MODEL_OUTPUT',
      ...where,
      field: 'loglikelihoods',
      message: `expected ${choices.length} log-likelihoods (one per choice) for item ${item.id}`,
    });
  }
  return values.map((value, index) => ({
    id: `${item.id}#${index}`,
    tokenIds: [],
    tokens: [],
    logprobs: [value],
    ranks: [1],
    isGreedy: [false],
  }));
}

/**
 * Re-score a file of model responses with xfer's scorers: every line is validated (a bad one names file and
 * line), matched to an item by id or index, scored by the chosen grader and every other grader of the
 * benchmark, then aggregated with the benchmark's metrics, a grader disagreement audit, and an
 * answer-position-bias check for multiple-choice benchmarks.
 */
export async function scoreResponses(options: {
  benchmark: Benchmark;
  items: readonly BenchmarkItem[];
  text: string;
  file: string;
  grader?: string;
}): Promise<ScoreResponsesResult> {
  const { benchmark, items, text, file } = options;
  const scorers = pickScorers(benchmark, options.grader);
  const byId = new Map(items.map((item) => [item.id, item]));
  const lines: VerdictLine[] = [];
  const samples: BenchmarkSample[] = [];
  const sampleCounters = new Map<string, number>();
  const rawLines = text.split('\n');
  for (let index = 0; index < rawLines.length; index++) {
    const raw = rawLines[index]!;
    if (raw.trim() === '') continue;
    const where = { file, line: index + 1 };
    const line = parseWith(ResponseLineSchema, parseJson(raw, { ...where, code: 'INVALID_MODEL_OUTPUT' }), {
      ...where,
      code: 'INVALID_MODEL_OUTPUT',
    });
    const item = resolveItem(line.id, byId, items);
    if (item === undefined) {
      throw new ValidationError({
        code: 'INVALID_MODEL_OUTPUT',
        ...where,
        field: 'id',
        message: `no ${benchmark.id} item with id or index ${JSON.stringify(line.id)} (${items.length} items loaded)`,
      });
    }
    const finishReason = line.finish_reason ?? line.finishReason;
    const verdicts: Verdict[] = [];
    for (const scorer of scorers) {
      if (scorer.kind === 'loglikelihood') {
        verdicts.push(scorer.score({ item, choices: loglikelihoodInputs(line, item, where) }));
      } else {
        if (line.response === undefined) {
          throw new ValidationError({
            code: 'INVALID_MODEL_OUTPUT',
            ...where,
            field: 'response',
            message: 'missing response',
          });
        }
        verdicts.push(
          await scorer.score({
            item,
            completion: line.response,
            ...(finishReason === undefined ? {} : { finishReason }),
          }),
        );
      }
    }
    const sample = line.sample ?? sampleCounters.get(item.id) ?? 0;
    sampleCounters.set(item.id, sample + 1);
    const [primary, ...others] = verdicts as [Verdict, ...Verdict[]];
    lines.push({
      id: item.id,
      sample,
      extracted: primary.extracted,
      correct: primary.correct,
      grader: primary.grader,
      graderVersion: primary.graderVersion,
      score: primary.score,
      details: primary.details,
      others: others.map((verdict) => ({
        grader: verdict.grader,
        correct: verdict.correct,
        extracted: verdict.extracted,
      })),
    });
    samples.push({ item, sampleIndex: sample, verdicts });
  }
  const metrics = benchmark.aggregate(samples);
  const accuracy =
    samples.length === 0
      ? 0
      : samples.filter((sample) => sample.verdicts[0]?.correct).length / samples.length;
  const audit =
    scorers.length > 1
      ? auditGraders(
          samples.map((sample) => ({
            id: sample.item.id,
            gold: sample.item.target,
            verdicts: sample.verdicts,
          })),
        )
      : undefined;
  const positionBias =
    benchmark.multipleChoice === undefined
      ? undefined
      : answerPositionBias(
          [...new Map(samples.map((sample) => [sample.item.id, sample.item])).values()],
          benchmark.multipleChoice,
          samples.map((sample) => sample.verdicts[0]?.extracted ?? null),
        );
  const figures = Object.entries(metrics)
    .filter(([name]) => name !== 'accuracy')
    .map(([name, value]) => `${name}=${formatNumber(value)}`);
  if (audit !== undefined) figures.push(`disagreements=${audit.disagreements.length}`);
  if (positionBias?.biased) {
    figures.push(
      `gold_position_bias=${positionBias.majorityLabel}:${formatNumber(positionBias.majorityShare)}`,
    );
  }
  const summary = [`accuracy=${formatNumber(accuracy)}`, `n=${samples.length}`, ...figures].join(' ');
  return { lines, metrics, accuracy, n: samples.length, audit, positionBias, summary };
}
