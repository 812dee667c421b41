import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ModelRef, type TrainingConfig, toXferError, XferError } from '@xfer/core';
import { evaluateNanoSuite, rendererFor } from '@xfer/eval';
import type { Store } from '@xfer/store';
import {
  buildRejectionSampledData,
  getRecipe,
  parseTrainingConfig,
  recipeThinks,
  resolveTrainingConfig,
  runTraining,
  type SftExample,
  type TrainingProgress,
} from '@xfer/train';
import type { PipelineEngines } from './engines.js';
import { mathTrainTask, nanoMathTrainBenchmarks } from './math-task.js';

export interface TrainRecipeOptions {
  store: Store;
  engines: PipelineEngines;
  recipe: string;
  preset?: string;
  seed?: number;
  /** The base model: its name in the store (created if missing) and its checkpoint directory. */
  base: { name: string; ref: ModelRef; directory: string };
  /** Name of the tuned model (default `<base>-<recipe>-s<seed>`). */
  outputName?: string;
  /** Runs are written under `<root>/<run id>/` (default `.xfer/runs`). */
  root?: string;
  /** Config overrides (validated; a bad field fails naming it). */
  overrides?: Record<string, unknown>;
  /** Math items per nano math task used for training (default 2,000). */
  itemsPerTask?: number;
  /** Items per math task for the before/after evaluation (default 100). */
  evalItems?: number;
  onProgress?: (progress: TrainingProgress) => void;
  onStage?: (stage: string) => void;
  signal?: AbortSignal;
}

export interface TrainRecipeResult {
  runId: string;
  modelId: string;
  modelName: string;
  directory: string;
  steps: number;
  mathBefore: number;
  mathAfter: number;
  /** Whether the tuned model answers in thinking mode (`recipeThinks`): how `mathAfter` was measured. */
  thinking: boolean;
  seconds: number;
  sha256: string;
}

const mathTasks = ['nano-arithmetic', 'nano-multistep', 'nano-linear', 'nano-remainder'];

/**
 * Math-group accuracy (percent) of the model in `directory` on the nano-suite evaluation split, with
 * prompts in thinking mode when `enableThinking` (a model tuned on thinking traces).
 */
export async function nanoMathAccuracy(
  engines: PipelineEngines,
  directory: string,
  limit: number,
  enableThinking = false,
): Promise<number> {
  const engine = await engines.createEngine(directory);
  try {
    const result = await evaluateNanoSuite(engine, { tasks: mathTasks, limit, enableThinking });
    return result.groups.math * 100;
  } finally {
    await engine.close();
  }
}

/**
 * Train one recipe from a base, recording everything in the store: the run (with its full config), the
 * SFT dataset and its acceptance rates, every metric point, every checkpoint (sha256), and the tuned model
 * with its lineage. `resumeRunId` continues a stopped run from its last checkpoint.
 */
export async function trainRecipe(
  options: TrainRecipeOptions & { resumeRunId?: string },
): Promise<TrainRecipeResult> {
  const started = performance.now();
  const { store, engines } = options;
  const recipe = getRecipe(options.recipe);
  const existing = options.resumeRunId ? store.training.requireRun(options.resumeRunId) : undefined;
  const config: TrainingConfig = existing
    ? parseTrainingConfig(existing.config)
    : resolveTrainingConfig({
        recipe: recipe.id,
        preset: options.preset ?? 'nano',
        seed: options.seed ?? 0,
        ...(options.overrides ? { overrides: options.overrides } : {}),
      });
  const baseModel =
    store.models.getByName(options.base.name) ??
    store.models.create({ name: options.base.name, ref: options.base.ref, method: 'base' });
  const run = existing ?? store.training.createRun({ baseModelId: baseModel.id, config, status: 'running' });
  const directory = resolve(options.root ?? '.xfer/runs', run.id);
  await mkdir(directory, { recursive: true });
  const modelName = options.outputName ?? `${options.base.name}-${recipe.id}-s${config.seed}`;
  const method =
    recipe.mode === 'sft'
      ? 'sft'
      : recipe.levers.sampler === 'teacher'
        ? 'offpolicy-rl'
        : recipe.levers.weights === 'uniform'
          ? 'onpolicy-sft'
          : 'rl';
  const tuned =
    store.models.getByName(modelName) ??
    store.models.create({
      name: modelName,
      ref: { kind: 'nano', path: join(directory, 'model') },
      baseModelId: baseModel.id,
      method,
      recipe: recipe.id,
    });
  if (existing) store.training.setStatus(run.id, 'running');

  try {
    const evalItems = options.evalItems ?? 100;
    options.onStage?.('evaluating the base on the math group');
    const mathBefore = await nanoMathAccuracy(engines, options.base.directory, evalItems);
    store.training.appendMetrics([{ runId: run.id, name: 'eval/math_accuracy', step: 0, value: mathBefore }]);

    const trainer = await engines.createTrainer(options.base.directory, {
      optimizer: config.optimizer,
      seed: config.seed,
    });
    const renderer = await rendererFor(trainer.policy);
    const benchmarks = nanoMathTrainBenchmarks(options.itemsPerTask ?? 2000, config.seed);
    const task = mathTrainTask(benchmarks, renderer);

    let sftData: SftExample[] | undefined;
    if (recipe.mode === 'sft') {
      const datasetName = `${run.id}/sft-data`;
      const stored = store.datasets.getByName(datasetName);
      if (stored) {
        sftData = store.datasets.listRows(stored.id).map((row) => row.data as unknown as SftExample);
      } else {
        options.onStage?.(`sampling ${recipe.teacherMode} teacher traces (rejection sampling)`);
        const mode = recipe.teacherMode ?? 'think';
        const teacher = await engines.createTeacher(mode);
        const data = await buildRejectionSampledData({
          engine: teacher,
          items: task.items,
          renderSamplerPrompt: (item) => task.renderPrompt(item, { enableThinking: mode === 'think' }),
          renderPolicyPrompt: (item) => task.renderPrompt(item, { enableThinking: mode === 'think' }),
          scorer: task.scorer,
          samplesPerQuery: config.samplesPerPrompt,
          sampling: { temperature: 1, maxTokens: config.maxSequenceLength },
          seed: config.seed,
          maxAcceptedPerQuery: 1,
        });
        await teacher.close();
        const dataset = store.datasets.create({
          name: datasetName,
          kind: 'sft',
          provenance: {
            teacher: mode,
            samplesPerQuery: config.samplesPerPrompt,
            sampled: data.sampled,
            accepted: data.accepted,
            acceptanceRate: data.acceptanceRate,
            perQuery: data.perQuery.map((q) => ({
              itemId: q.itemId,
              sampled: q.sampled,
              accepted: q.accepted,
            })),
          },
        });
        store.datasets.appendRows(
          dataset.id,
          data.examples.map((example) => ({ ...example })),
        );
        sftData = data.examples;
      }
    }

    options.onStage?.(`training ${recipe.id}`);
    const thinking = recipeThinks(recipe);
    const summary = await runTraining({
      config,
      trainer,
      task,
      // Periodic evaluation (every `evalEvery` steps, and after the last): the math group on the same
      // items as before training, from the weights as they are at that step.
      evaluate: async (step, savedModel) => {
        options.onStage?.(`evaluating step ${step} on the math group${thinking ? ' (thinking mode)' : ''}`);
        if (savedModel) {
          return { math_accuracy: await nanoMathAccuracy(engines, savedModel, evalItems, thinking) };
        }
        const snapshot = join(directory, `eval-step-${step}`);
        await trainer.save(snapshot, { optimizer: false });
        try {
          return { math_accuracy: await nanoMathAccuracy(engines, snapshot, evalItems, thinking) };
        } finally {
          await rm(snapshot, { recursive: true, force: true });
        }
      },
      ...(sftData ? { sftData } : {}),
      outputDir: directory,
      resume: true,
      recorder: {
        metrics: (points) =>
          void store.training.appendMetrics(points.map((point) => ({ ...point, runId: run.id }))),
        checkpoint: (info) =>
          void store.training.recordCheckpoint({
            modelId: tuned.id,
            trainingRunId: run.id,
            step: info.step,
            path: info.path,
            sha256: info.sha256,
            bytes: info.bytes,
          }),
      },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await trainer.close();
    store.training.recordCheckpoint({
      modelId: tuned.id,
      trainingRunId: run.id,
      step: summary.steps,
      path: summary.finalModel,
      sha256: summary.finalSha256,
      bytes: 0,
    });
    store.models.setModelHash(tuned.id, summary.finalSha256);

    // The driver evaluated the final weights (`eval/math_accuracy` at the last step, in the store).
    const mathAfter = summary.last['eval/math_accuracy'];
    if (mathAfter === undefined) {
      throw new XferError({
        code: 'INTERNAL',
        message: `run ${run.id} ended without a final math evaluation`,
      });
    }
    store.training.setStatus(run.id, 'completed', { outputModelId: tuned.id });
    return {
      runId: run.id,
      modelId: tuned.id,
      modelName,
      directory: summary.finalModel,
      steps: summary.steps,
      mathBefore,
      mathAfter,
      thinking,
      seconds: (performance.now() - started) / 1000,
      sha256: summary.finalSha256,
    };
  } catch (error) {
    const failure = toXferError(error);
    store.training.setStatus(run.id, failure.code === 'CANCELLED' ? 'cancelled' : 'failed', {
      error: `${failure.code}: ${failure.message}`,
    });
    throw XferError.isInstance(error) ? error : failure;
  }
}
