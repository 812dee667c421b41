import {
  canonicalJson,
  type EvalSettings,
  EvalSettingsSchema,
  parseWith,
  type RunStatus,
  ValidationError,
} from '@xfer/core';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import { type EvalRunRecord, runStatusColumn, StringMapSchema } from '../records.js';
import { decodeJson } from '../row.js';
import { evalRuns } from '../schema.js';
import { newId, notFound, type StoreDatabase, statusTimes, write } from './shared.js';

type Row = typeof evalRuns.$inferSelect;

function toRecord(row: Row): EvalRunRecord {
  const where = (column: string) => ({ table: 'eval_runs', column, rowId: row.id });
  return {
    id: row.id,
    experimentId: row.experimentId,
    modelId: row.modelId,
    status: runStatusColumn.decode(row.status, where('status')),
    settings: decodeJson(EvalSettingsSchema, row.settingsJson, where('settings_json')),
    modelHash: row.modelHash,
    chatTemplateHash: row.chatTemplateHash,
    samplingHash: row.samplingHash,
    scorerVersions: decodeJson(StringMapSchema, row.scorerVersionsJson, where('scorer_versions_json')),
    benchmarkHashes: decodeJson(StringMapSchema, row.benchmarkHashesJson, where('benchmark_hashes_json')),
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** Input of {@link EvalRunRepository.create}. */
export interface CreateEvalRunInput {
  id?: string;
  experimentId?: string | null;
  modelId: string;
  settings: z.input<typeof EvalSettingsSchema>;
  /** Hash of the model's weights/config (or endpoint + model name). */
  modelHash: string;
  /** Hash of the chat template and tokenizer config. */
  chatTemplateHash: string;
  /** Hash of the sampling parameters. */
  samplingHash: string;
  /** Grader name → grader version. */
  scorerVersions: Record<string, string>;
  /** Benchmark id → content hash of its items. */
  benchmarkHashes?: Record<string, string>;
  status?: RunStatus;
}

/** The fields that decide whether two evaluation runs can be compared. */
export function comparabilityKey(run: EvalRunRecord): string {
  return canonicalJson({
    modelHash: run.modelHash,
    chatTemplateHash: run.chatTemplateHash,
    samplingHash: run.samplingHash,
    scorerVersions: run.scorerVersions,
    benchmarkHashes: run.benchmarkHashes,
  });
}

/** Evaluation runs: one model, its settings and comparability hashes, and a status. */
export class EvalRunRepository {
  constructor(private readonly db: StoreDatabase) {}

  /** Create a run (status `pending` unless given). A missing model is a `CONFLICT`. */
  create(input: CreateEvalRunInput): EvalRunRecord {
    const settings: EvalSettings = parseWith(EvalSettingsSchema, input.settings, { field: 'settings' });
    const status = input.status ?? 'pending';
    if (!runStatusColumn.has(status))
      throw new ValidationError({ field: 'status', message: `unknown status ${status}` });
    const now = Date.now();
    const row = write('eval_runs', () =>
      this.db
        .insert(evalRuns)
        .values({
          id: input.id ?? newId('eval'),
          experimentId: input.experimentId ?? null,
          modelId: input.modelId,
          status,
          settingsJson: canonicalJson(settings),
          modelHash: input.modelHash,
          chatTemplateHash: input.chatTemplateHash,
          samplingHash: input.samplingHash,
          scorerVersionsJson: canonicalJson(input.scorerVersions),
          benchmarkHashesJson: canonicalJson(input.benchmarkHashes ?? {}),
          createdAt: now,
          ...statusTimes(status, now),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  get(id: string): EvalRunRecord | undefined {
    const row = this.db.select().from(evalRuns).where(eq(evalRuns.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): EvalRunRecord {
    const found = this.get(id);
    if (!found) throw notFound('eval_runs', id);
    return found;
  }

  list(filter: { modelId?: string; experimentId?: string; status?: RunStatus } = {}): EvalRunRecord[] {
    const conditions: SQL[] = [];
    if (filter.modelId !== undefined) conditions.push(eq(evalRuns.modelId, filter.modelId));
    if (filter.experimentId !== undefined) conditions.push(eq(evalRuns.experimentId, filter.experimentId));
    if (filter.status !== undefined) conditions.push(eq(evalRuns.status, filter.status));
    return this.db
      .select()
      .from(evalRuns)
      .where(and(...conditions))
      .orderBy(asc(evalRuns.createdAt), asc(evalRuns.id))
      .all()
      .map(toRecord);
  }

  /** Move a run to `status`, stamping `startedAt`/`finishedAt`; `error` is kept for `failed`. */
  setStatus(id: string, status: RunStatus, options: { error?: string | null } = {}): EvalRunRecord {
    if (!runStatusColumn.has(status))
      throw new ValidationError({ field: 'status', message: `unknown status ${status}` });
    const row = write('eval_runs', () =>
      this.db
        .update(evalRuns)
        .set({ status, error: options.error ?? null, ...statusTimes(status, Date.now()) })
        .where(eq(evalRuns.id, id))
        .returning()
        .get(),
    );
    if (!row) throw notFound('eval_runs', id);
    return toRecord(row);
  }
}
