import {
  type Checkpoint,
  canonicalJson,
  type MetricPoint,
  parseWith,
  type RunStatus,
  type TrainingConfigInput,
  TrainingConfigSchema,
  ValidationError,
} from '@xfer/core';
import type Database from 'better-sqlite3';
import { and, asc, desc, eq, type SQL } from 'drizzle-orm';
import { runStatusColumn, type TrainingRunRecord } from '../records.js';
import { decodeJson } from '../row.js';
import { checkpoints, trainingRuns } from '../schema.js';
import { newId, notFound, type StoreDatabase, statusTimes, write } from './shared.js';

type RunRow = typeof trainingRuns.$inferSelect;
type CheckpointRow = typeof checkpoints.$inferSelect;

function toRun(row: RunRow): TrainingRunRecord {
  const where = (column: string) => ({ table: 'training_runs', column, rowId: row.id });
  return {
    id: row.id,
    experimentId: row.experimentId,
    baseModelId: row.baseModelId,
    outputModelId: row.outputModelId,
    recipe: row.recipe,
    config: decodeJson(TrainingConfigSchema, row.configJson, where('config_json')),
    status: runStatusColumn.decode(row.status, where('status')),
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    id: row.id,
    modelId: row.modelId,
    trainingRunId: row.trainingRunId,
    step: row.step,
    path: row.path,
    sha256: row.sha256,
    bytes: row.bytes,
    createdAt: row.createdAt,
  };
}

/** A metric point to append; `time` defaults to now. */
export type MetricPointInput = Omit<MetricPoint, 'time'> & { time?: number };

/** Training runs with their metric series and checkpoints. */
export class TrainingRepository {
  private readonly insertMetric: Database.Statement;
  private readonly selectMetrics: Database.Statement;
  private readonly selectMetricsByName: Database.Statement;

  constructor(
    private readonly db: StoreDatabase,
    private readonly sqlite: Database.Database,
  ) {
    this.insertMetric = sqlite.prepare(
      'INSERT INTO metrics (run_id, name, step, value, time) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectMetrics = sqlite.prepare(
      'SELECT run_id, name, step, value, time FROM metrics WHERE run_id = ? ORDER BY name, step, id',
    );
    this.selectMetricsByName = sqlite.prepare(
      'SELECT run_id, name, step, value, time FROM metrics WHERE run_id = ? AND name = ? ORDER BY step, id',
    );
  }

  /** Create a training run from a full config (validated); `recipe` is taken from the config. */
  createRun(input: {
    id?: string;
    experimentId?: string | null;
    baseModelId: string;
    config: TrainingConfigInput;
    status?: RunStatus;
  }): TrainingRunRecord {
    const config = parseWith(TrainingConfigSchema, input.config, { field: 'config' });
    const status = input.status ?? 'pending';
    if (!runStatusColumn.has(status))
      throw new ValidationError({ field: 'status', message: `unknown status ${status}` });
    const now = Date.now();
    const row = write('training_runs', () =>
      this.db
        .insert(trainingRuns)
        .values({
          id: input.id ?? newId('train'),
          experimentId: input.experimentId ?? null,
          baseModelId: input.baseModelId,
          recipe: config.recipe,
          configJson: canonicalJson(config),
          status,
          createdAt: now,
          ...statusTimes(status, now),
        })
        .returning()
        .get(),
    );
    return toRun(row);
  }

  getRun(id: string): TrainingRunRecord | undefined {
    const row = this.db.select().from(trainingRuns).where(eq(trainingRuns.id, id)).get();
    return row && toRun(row);
  }

  requireRun(id: string): TrainingRunRecord {
    const found = this.getRun(id);
    if (!found) throw notFound('training_runs', id);
    return found;
  }

  listRuns(
    filter: { experimentId?: string; baseModelId?: string; status?: RunStatus } = {},
  ): TrainingRunRecord[] {
    const conditions: SQL[] = [];
    if (filter.experimentId !== undefined)
      conditions.push(eq(trainingRuns.experimentId, filter.experimentId));
    if (filter.baseModelId !== undefined) conditions.push(eq(trainingRuns.baseModelId, filter.baseModelId));
    if (filter.status !== undefined) conditions.push(eq(trainingRuns.status, filter.status));
    return this.db
      .select()
      .from(trainingRuns)
      .where(and(...conditions))
      .orderBy(asc(trainingRuns.createdAt), asc(trainingRuns.id))
      .all()
      .map(toRun);
  }

  /** Move a run to `status` (stamping times); record the model it produced and any error. */
  setStatus(
    id: string,
    status: RunStatus,
    options: { error?: string | null; outputModelId?: string } = {},
  ): TrainingRunRecord {
    if (!runStatusColumn.has(status))
      throw new ValidationError({ field: 'status', message: `unknown status ${status}` });
    const row = write('training_runs', () =>
      this.db
        .update(trainingRuns)
        .set({
          status,
          error: options.error ?? null,
          ...(options.outputModelId === undefined ? {} : { outputModelId: options.outputModelId }),
          ...statusTimes(status, Date.now()),
        })
        .where(eq(trainingRuns.id, id))
        .returning()
        .get(),
    );
    if (!row) throw notFound('training_runs', id);
    return toRun(row);
  }

  /** Append metric points in one transaction. NaN/Infinity are refused (a diverged run raises its own error). */
  appendMetrics(points: readonly MetricPointInput[]): number {
    points.forEach((point, index) => {
      if (!Number.isFinite(point.value)) {
        throw new ValidationError({
          field: `points[${index}].value`,
          message: `expected a finite number, got ${point.value}`,
        });
      }
      if (!Number.isInteger(point.step) || point.step < 0) {
        throw new ValidationError({ field: `points[${index}].step`, message: 'expected an integer >= 0' });
      }
    });
    const now = Date.now();
    return write('metrics', () =>
      this.sqlite
        .transaction(() => {
          for (const point of points) {
            this.insertMetric.run(point.runId, point.name, point.step, point.value, point.time ?? now);
          }
          return points.length;
        })
        .immediate(),
    );
  }

  /** A run's metric points, by name then step (one series when `name` is given). */
  listMetrics(runId: string, name?: string): MetricPoint[] {
    const rows = (
      name === undefined ? this.selectMetrics.all(runId) : this.selectMetricsByName.all(runId, name)
    ) as { run_id: string; name: string; step: number; value: number; time: number }[];
    return rows.map((row) => ({
      runId: row.run_id,
      name: row.name,
      step: row.step,
      value: row.value,
      time: row.time,
    }));
  }

  /** Record a saved checkpoint of a model (with the sha256 of its file or manifest). */
  recordCheckpoint(
    input: Omit<Checkpoint, 'id' | 'createdAt' | 'trainingRunId'> & {
      id?: string;
      trainingRunId?: string | null;
    },
  ): Checkpoint {
    if (!/^[0-9a-f]{64}$/.test(input.sha256)) {
      throw new ValidationError({ field: 'sha256', message: 'expected 64 lowercase hex characters' });
    }
    const row = write('checkpoints', () =>
      this.db
        .insert(checkpoints)
        .values({
          id: input.id ?? newId('ckpt'),
          modelId: input.modelId,
          trainingRunId: input.trainingRunId ?? null,
          step: input.step,
          path: input.path,
          sha256: input.sha256,
          bytes: input.bytes,
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toCheckpoint(row);
  }

  /** Checkpoints of a training run or a model, by step. */
  listCheckpoints(filter: { trainingRunId?: string; modelId?: string }): Checkpoint[] {
    const conditions: SQL[] = [];
    if (filter.trainingRunId !== undefined)
      conditions.push(eq(checkpoints.trainingRunId, filter.trainingRunId));
    if (filter.modelId !== undefined) conditions.push(eq(checkpoints.modelId, filter.modelId));
    return this.db
      .select()
      .from(checkpoints)
      .where(and(...conditions))
      .orderBy(asc(checkpoints.step), asc(checkpoints.createdAt))
      .all()
      .map(toCheckpoint);
  }

  /** The checkpoint with the highest step of a training run (where a resumed run continues). */
  latestCheckpoint(trainingRunId: string): Checkpoint | undefined {
    const row = this.db
      .select()
      .from(checkpoints)
      .where(eq(checkpoints.trainingRunId, trainingRunId))
      .orderBy(desc(checkpoints.step), desc(checkpoints.createdAt))
      .limit(1)
      .get();
    return row && toCheckpoint(row);
  }
}
