import { z } from 'zod';
import { ModelRefSchema } from './model.js';
import { FinishReasonSchema, SamplingParamsSchema } from './sampling.js';

/** The paper's three benchmark groups. */
export const BenchmarkGroupSchema = z.enum(['math', 'other', 'non']);
export type BenchmarkGroup = z.infer<typeof BenchmarkGroupSchema>;
export const benchmarkGroupLabels: Record<BenchmarkGroup, string> = {
  math: 'Math reasoning',
  other: 'Other reasoning',
  non: 'Non-reasoning',
};

/** One evaluation item. `input` holds the fields a prompt is built from; `target` what scorers compare to. */
export const BenchmarkItemSchema = z.object({
  id: z.string().min(1),
  benchmark: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  target: z.unknown(),
  /** Multiple-choice options for log-likelihood tasks, in order. */
  choices: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type BenchmarkItem = z.infer<typeof BenchmarkItemSchema>;

/** One grader's judgement of one sample. `score` is in [0, 1] (1 = correct). */
export const VerdictSchema = z.object({
  grader: z.string().min(1),
  graderVersion: z.string().min(1),
  extracted: z.string().nullable(),
  correct: z.boolean(),
  score: z.number().min(0).max(1),
  /** Metric-specific extras: IFEval per-instruction results, F1, sandbox verdicts... */
  details: z.record(z.string(), z.unknown()).default({}),
});
export type Verdict = z.infer<typeof VerdictSchema>;
export type VerdictInput = z.input<typeof VerdictSchema>;

/** One model response to one item (sample `sampleIndex` of n), with everything needed to re-score it. */
export const SampleSchema = z.object({
  requestHash: z.string().length(64),
  runId: z.string(),
  benchmark: z.string(),
  itemId: z.string(),
  sampleIndex: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  prompt: z.string(),
  completion: z.string(),
  finishReason: FinishReasonSchema,
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
  verdicts: z.array(VerdictSchema),
  createdAt: z.number().int(),
});
export type Sample = z.infer<typeof SampleSchema>;

export const TuningMethodSchema = z.enum([
  'base',
  'sft',
  'rl',
  'onpolicy-sft',
  'offpolicy-rl',
  'pretrain',
  'other',
]);
export type TuningMethod = z.infer<typeof TuningMethodSchema>;

/** Evaluation settings recorded with a run; runs compare only when these hashes agree. */
export const EvalSettingsSchema = z.object({
  benchmarks: z.array(z.string()).min(1),
  samples: z.number().int().positive().default(1),
  seed: z.number().int().nonnegative().default(0),
  sampling: SamplingParamsSchema.partial().default({}),
  enableThinking: z.boolean().default(false),
  concurrency: z.number().int().positive().default(8),
  limit: z.number().int().positive().optional(),
});
export type EvalSettings = z.infer<typeof EvalSettingsSchema>;

/** A point of a metric series (training loss, reward, eval accuracy...). */
export const MetricPointSchema = z.object({
  runId: z.string(),
  name: z.string().min(1),
  step: z.number().int().nonnegative(),
  value: z.number(),
  time: z.number().int(),
});
export type MetricPoint = z.infer<typeof MetricPointSchema>;

export const CheckpointSchema = z.object({
  id: z.string(),
  modelId: z.string(),
  trainingRunId: z.string().nullable(),
  step: z.number().int().nonnegative(),
  path: z.string(),
  sha256: z.string().length(64),
  bytes: z.number().int().nonnegative(),
  createdAt: z.number().int(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const AnalysisKindSchema = z.enum(['ti', 'pca-shift', 'token-shift', 'report']);
export type AnalysisKind = z.infer<typeof AnalysisKindSchema>;

export const ArtifactKindSchema = z.enum(['checkpoint', 'dataset', 'figure', 'report', 'log', 'other']);
export type ArtifactKind = z.infer<typeof ArtifactKindSchema>;

export const RunStatusSchema = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** A model known to the store: a reference plus lineage (which base it was tuned from, how). */
export const ModelRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  ref: ModelRefSchema,
  baseModelId: z.string().nullable(),
  method: TuningMethodSchema,
  recipe: z.string().nullable(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;
