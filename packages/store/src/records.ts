/**
 * The shapes the repositories return and accept. Stored records extend the core domain types with what
 * the store adds (ids, timestamps, comparability hashes).
 *
 * @module
 */
import {
  AnalysisKindSchema,
  ArtifactKindSchema,
  BenchmarkGroupSchema,
  type Checkpoint,
  type EvalSettingsSchema,
  FinishReasonSchema,
  type ModelRecord,
  RunStatusSchema,
  type Sample,
  type TrainingConfigSchema,
  TuningMethodSchema,
  type Verdict,
  type VerdictInput,
} from '@xfer/core';
import { z } from 'zod';
import { EnumColumn } from './row.js';

/** A JSON object column (`{}` at least). */
export const JsonObjectSchema = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObjectSchema>;
/** A map of names to version or hash strings (scorer versions, benchmark item hashes). */
export const StringMapSchema = z.record(z.string(), z.string());

export const DatasetKindSchema = z.enum(['sft', 'rl-prompts', 'eval', 'other']);
export type DatasetKind = z.infer<typeof DatasetKindSchema>;

export const finishReasonColumn = new EnumColumn(FinishReasonSchema);
export const runStatusColumn = new EnumColumn(RunStatusSchema);
export const tuningMethodColumn = new EnumColumn(TuningMethodSchema);
export const benchmarkGroupColumn = new EnumColumn(BenchmarkGroupSchema);
export const analysisKindColumn = new EnumColumn(AnalysisKindSchema);
export const artifactKindColumn = new EnumColumn(ArtifactKindSchema);
export const datasetKindColumn = new EnumColumn(DatasetKindSchema);

export interface ExperimentRecord {
  id: string;
  name: string;
  description: string;
  config: JsonObject;
  createdAt: number;
}

/** A model with lineage, as stored. */
export interface StoredModel extends ModelRecord {
  modelHash: string | null;
  experimentId: string | null;
  createdAt: number;
}

export interface BenchmarkRecord {
  id: string;
  version: string;
  group: z.infer<typeof BenchmarkGroupSchema>;
  itemsHash: string;
  itemCount: number;
  source: string;
  createdAt: number;
}

export interface EvalRunRecord {
  id: string;
  experimentId: string | null;
  modelId: string;
  status: z.infer<typeof RunStatusSchema>;
  settings: z.infer<typeof EvalSettingsSchema>;
  modelHash: string;
  chatTemplateHash: string;
  samplingHash: string;
  scorerVersions: Record<string, string>;
  benchmarkHashes: Record<string, string>;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** A sample to store. `verdicts` may come now or later (`recordVerdicts`). */
export interface SampleInput extends Omit<Sample, 'verdicts' | 'createdAt'> {
  verdicts?: readonly VerdictInput[];
  createdAt?: number;
}

/** A stored sample: the core `Sample` plus its row id. `runId` is the run that computed it. */
export interface StoredSample extends Sample {
  id: number;
}

export type { Verdict, VerdictInput };

export interface RunEvent {
  runId: string;
  seq: number;
  kind: string;
  payload: JsonObject;
  createdAt: number;
}

export interface TrainingRunRecord {
  id: string;
  experimentId: string | null;
  baseModelId: string;
  outputModelId: string | null;
  recipe: string;
  config: z.infer<typeof TrainingConfigSchema>;
  status: z.infer<typeof RunStatusSchema>;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type { Checkpoint };

export interface DatasetRecord {
  id: string;
  name: string;
  kind: DatasetKind;
  provenance: JsonObject;
  rowCount: number;
  createdAt: number;
}

export interface AnalysisRecord {
  id: string;
  experimentId: string | null;
  kind: z.infer<typeof AnalysisKindSchema>;
  inputs: JsonObject;
  result: JsonObject;
  createdAt: number;
}

export interface ArtifactRecord {
  id: string;
  path: string;
  kind: z.infer<typeof ArtifactKindSchema>;
  sha256: string;
  bytes: number;
  ownerId: string | null;
  createdAt: number;
}
