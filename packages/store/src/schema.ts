/**
 * The drizzle schema of one lab database (`xfer.db`). Every change here needs a migration:
 * `pnpm --filter @xfer/store db:generate`, then commit `drizzle/`.
 *
 * Conventions: text ids chosen by the caller or generated (`randomUUID`) for aggregates, integer row ids
 * for high-volume rows (samples, verdicts, metrics, events, dataset rows); times are epoch milliseconds;
 * `*_json` columns hold canonical JSON validated with zod on read; enum columns are plain text validated
 * on read (an unknown value is a `CorruptRowError`, never a crash).
 *
 * @module
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const createdAt = () =>
  integer('created_at').notNull().default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);

/** A named study grouping runs, models and analyses. */
export const experiments = sqliteTable('experiments', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  configJson: text('config_json').notNull().default('{}'),
  createdAt: createdAt(),
});

/** Models with lineage: a tuned model points at the base it was tuned from. */
export const models = sqliteTable(
  'models',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    refJson: text('ref_json').notNull(),
    baseModelId: text('base_model_id').references((): any => models.id),
    method: text('method').notNull(),
    recipe: text('recipe'),
    /** Content hash of the weights/config, part of eval comparability. */
    modelHash: text('model_hash'),
    experimentId: text('experiment_id').references(() => experiments.id),
    createdAt: createdAt(),
  },
  (table) => [index('models_base_model_idx').on(table.baseModelId)],
);

/** Benchmarks as evaluated: version, group and a content hash of their items. */
export const benchmarks = sqliteTable('benchmarks', {
  id: text('id').primaryKey(),
  version: text('version').notNull(),
  group: text('group').notNull(),
  itemsHash: text('items_hash').notNull(),
  itemCount: integer('item_count').notNull(),
  source: text('source').notNull().default(''),
  createdAt: createdAt(),
});

/** One evaluation run of one model; the hashes decide whether two runs compare. */
export const evalRuns = sqliteTable(
  'eval_runs',
  {
    id: text('id').primaryKey(),
    experimentId: text('experiment_id').references(() => experiments.id),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    status: text('status').notNull(),
    settingsJson: text('settings_json').notNull(),
    modelHash: text('model_hash').notNull(),
    chatTemplateHash: text('chat_template_hash').notNull(),
    samplingHash: text('sampling_hash').notNull(),
    scorerVersionsJson: text('scorer_versions_json').notNull().default('{}'),
    benchmarkHashesJson: text('benchmark_hashes_json').notNull().default('{}'),
    error: text('error'),
    createdAt: createdAt(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (table) => [index('eval_runs_model_idx').on(table.modelId)],
);

/**
 * Every sample ever generated, keyed by `request_hash` (sha256 over everything that moves a score).
 * `run_id` is the run that computed it; a later run that reuses it is linked through `run_samples`.
 */
export const samples = sqliteTable(
  'samples',
  {
    id: integer('id').primaryKey(),
    requestHash: text('request_hash').notNull().unique(),
    runId: text('run_id')
      .notNull()
      .references(() => evalRuns.id),
    benchmark: text('benchmark').notNull(),
    itemId: text('item_id').notNull(),
    sampleIndex: integer('sample_index').notNull(),
    seed: integer('seed').notNull(),
    prompt: text('prompt').notNull(),
    completion: text('completion').notNull(),
    finishReason: text('finish_reason').notNull(),
    promptTokens: integer('prompt_tokens').notNull(),
    completionTokens: integer('completion_tokens').notNull(),
    latencyMs: real('latency_ms').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('samples_run_idx').on(table.runId)],
);

/**
 * Samples a run reuses without having computed them (an identical request answered for an earlier run).
 * A sample's own run is never linked here (migration 0001 removed the links 0000 wrote for it).
 */
export const runSamples = sqliteTable(
  'run_samples',
  {
    runId: text('run_id')
      .notNull()
      .references(() => evalRuns.id),
    sampleId: integer('sample_id')
      .notNull()
      .references(() => samples.id),
  },
  (table) => [primaryKey({ columns: [table.runId, table.sampleId] })],
);

/** One grader's judgement of one sample. */
export const verdicts = sqliteTable(
  'verdicts',
  {
    id: integer('id').primaryKey(),
    sampleId: integer('sample_id')
      .notNull()
      .references(() => samples.id),
    grader: text('grader').notNull(),
    graderVersion: text('grader_version').notNull(),
    extracted: text('extracted'),
    correct: integer('correct', { mode: 'boolean' }).notNull(),
    score: real('score').notNull(),
    detailsJson: text('details_json').notNull().default('{}'),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('verdicts_sample_grader_idx').on(table.sampleId, table.grader, table.graderVersion),
  ],
);

/** Progress events of a run (evaluation or training), streamed by the server; `seq` counts from 1 per run. */
export const runEvents = sqliteTable(
  'run_events',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    payloadJson: text('payload_json').notNull().default('{}'),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('run_events_run_seq_idx').on(table.runId, table.seq)],
);

/** One training run: a base model, a recipe and its full config, and the model it produced. */
export const trainingRuns = sqliteTable('training_runs', {
  id: text('id').primaryKey(),
  experimentId: text('experiment_id').references(() => experiments.id),
  baseModelId: text('base_model_id')
    .notNull()
    .references(() => models.id),
  outputModelId: text('output_model_id').references(() => models.id),
  recipe: text('recipe').notNull(),
  configJson: text('config_json').notNull(),
  status: text('status').notNull(),
  error: text('error'),
  createdAt: createdAt(),
  startedAt: integer('started_at'),
  finishedAt: integer('finished_at'),
});

/** Metric series of training runs (loss, reward, KL, eval accuracy...). */
export const metrics = sqliteTable(
  'metrics',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => trainingRuns.id),
    name: text('name').notNull(),
    step: integer('step').notNull(),
    value: real('value').notNull(),
    time: integer('time').notNull(),
  },
  (table) => [index('metrics_run_name_step_idx').on(table.runId, table.name, table.step)],
);

/** Saved weights: a model at a step, with the sha256 of the file (or of the directory's manifest). */
export const checkpoints = sqliteTable(
  'checkpoints',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    trainingRunId: text('training_run_id').references(() => trainingRuns.id),
    step: integer('step').notNull(),
    path: text('path').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('checkpoints_model_idx').on(table.modelId),
    index('checkpoints_run_idx').on(table.trainingRunId),
  ],
);

/** SFT data and RL prompt sets, with their provenance (teacher, acceptance rates, filters). */
export const datasets = sqliteTable('datasets', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  provenanceJson: text('provenance_json').notNull().default('{}'),
  rowCount: integer('row_count').notNull().default(0),
  createdAt: createdAt(),
});

/** One row of a dataset (an SFT example, an RL prompt), in order. */
export const datasetRows = sqliteTable(
  'dataset_rows',
  {
    id: integer('id').primaryKey(),
    datasetId: text('dataset_id')
      .notNull()
      .references(() => datasets.id),
    rowIndex: integer('row_index').notNull(),
    dataJson: text('data_json').notNull(),
  },
  (table) => [uniqueIndex('dataset_rows_dataset_index_idx').on(table.datasetId, table.rowIndex)],
);

/** An analysis (TI, PCA shift, token shift, report): what went in and what came out. */
export const analyses = sqliteTable('analyses', {
  id: text('id').primaryKey(),
  experimentId: text('experiment_id').references(() => experiments.id),
  kind: text('kind').notNull(),
  inputsJson: text('inputs_json').notNull(),
  resultJson: text('result_json').notNull(),
  createdAt: createdAt(),
});

/** Files the lab produced (checkpoints, datasets, figures, reports, logs), by path and content hash. */
export const artifacts = sqliteTable(
  'artifacts',
  {
    id: text('id').primaryKey(),
    path: text('path').notNull(),
    kind: text('kind').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    /** The run or analysis that produced it, when known. */
    ownerId: text('owner_id'),
    createdAt: createdAt(),
  },
  (table) => [index('artifacts_owner_idx').on(table.ownerId)],
);

/** Every table, in dependency order (parents first). */
export const tables = {
  experiments,
  models,
  benchmarks,
  evalRuns,
  samples,
  runSamples,
  verdicts,
  runEvents,
  trainingRuns,
  metrics,
  checkpoints,
  datasets,
  datasetRows,
  analyses,
  artifacts,
};
