/**
 * `@xfer/store`: the experiment store. One SQLite file per lab (WAL), a drizzle schema with committed
 * migrations, and repositories that validate what they read.
 *
 * @example
 * ```ts
 * import { openStore, requestHash } from '@xfer/store';
 * const store = openStore('xfer.db');
 * const { inserted } = store.samples.insertSamples(batch);
 * const samples = store.samples.listRunSamples(runId);
 * store.close();
 * ```
 * @module
 */
export { requestHash, sha256, sha256File } from './hash.js';
export {
  type ApplyMigrationsOptions,
  applyMigrations,
  defaultMigrationsFolder,
  type MigrationReport,
  migrationStatus,
} from './migrate.js';
export {
  defaultStorePath,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreInfo,
  tableNames,
} from './open-store.js';
export * from './records.js';
export { AnalysisRepository } from './repositories/analyses.js';
export { ArtifactRepository } from './repositories/artifacts.js';
export { BenchmarkRepository, type RegisterBenchmarkInput } from './repositories/benchmarks.js';
export { DatasetRepository, type DatasetRow } from './repositories/datasets.js';
export { type CreateEvalRunInput, comparabilityKey, EvalRunRepository } from './repositories/eval-runs.js';
export { EventRepository } from './repositories/events.js';
export { ExperimentRepository } from './repositories/experiments.js';
export { type CreateModelInput, ModelRepository } from './repositories/models.js';
export { type InsertSamplesResult, SampleRepository, type VerdictForHash } from './repositories/samples.js';
export type { StoreDatabase } from './repositories/shared.js';
export { type MetricPointInput, TrainingRepository } from './repositories/training.js';
export { decodeJson, EnumColumn, type RowLocation } from './row.js';
export * as schema from './schema.js';
