import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  type BenchmarkItem,
  canonicalJson,
  type EngineV1,
  type GenerateRequest,
  type GenerateResult,
  generateAll,
  SamplingParamsSchema,
  TrainingDivergedError,
  type TrainSequence,
  ValidationError,
  XferError,
} from '@xfer/core';
import { getRecipe } from '../recipes/recipes.js';
import { informativeGroups, overlongPenalty, sequenceWeights } from '../rl/advantages.js';
import { latestCheckpoint, saveCheckpoint } from './checkpoints.js';
import { deriveSeed, epochIndex } from './random.js';
import { learningRateAt } from './schedule.js';
import type { MetricRecord, RolloutRecord, RunTrainingOptions, TrainingSummary } from './types.js';

interface StepStatistics {
  loss: number;
  tokens: number;
  gradNorm: number;
  kl: number;
  clipFraction: number;
  entropy?: number;
  extra: Record<string, number>;
}

function configHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Total optimizer-schedule steps of a run: epochs over the SFT data, or the RL step count. */
export function totalStepsOf(options: Pick<RunTrainingOptions, 'config' | 'sftData'>): number {
  const { config } = options;
  const recipe = getRecipe(config.recipe);
  if (recipe.mode === 'rl') {
    if (config.steps === undefined)
      throw new ValidationError({ field: 'config.steps', message: 'an RL recipe needs steps' });
    return config.steps;
  }
  const size = options.sftData?.length ?? 0;
  if (size === 0)
    throw new ValidationError({ field: 'sftData', message: 'an SFT recipe needs a non-empty dataset' });
  if (config.steps !== undefined) return config.steps;
  return Math.max(1, Math.ceil(((config.epochs ?? 1) * size) / config.batchSize));
}

/**
 * The training loop for every recipe: the driver owns sampling, rewards (the evaluation scorer), weights,
 * schedules, metrics and checkpoints; the trainer does tensor math. SFT and RL are the same loop with
 * different levers (PAPER.md §7.1). Every random choice derives from (seed, step, item, sample), so a run
 * resumed from a checkpoint continues exactly as an uninterrupted run would.
 */
export async function runTraining(options: RunTrainingOptions): Promise<TrainingSummary> {
  const { config, trainer, task } = options;
  const recipe = getRecipe(config.recipe);
  const levers = config.levers;
  const hash = configHash(config);
  const totalSteps = totalStepsOf(options);
  const started = performance.now();
  if (levers.sampler === 'teacher' && recipe.mode === 'rl' && !options.teacher) {
    throw new ValidationError({
      field: 'teacher',
      message: `recipe ${recipe.id} samples from a teacher engine; none was given`,
    });
  }

  // The KL reference is the initial policy (the base), frozen before any checkpoint is loaded.
  if (levers.loss.klBeta > 0) await trainer.snapshotReference();

  let startStep = 0;
  let resumedFrom: number | null = null;
  if (options.resume) {
    const latest = await latestCheckpoint(options.outputDir);
    if (latest) {
      if (latest.configHash !== hash) {
        throw new XferError({
          code: 'INVALID_CONFIG',
          message: `cannot resume ${latest.path}: it was written with a different training config`,
          data: { checkpoint: latest.path },
        });
      }
      await trainer.load(latest.path, { optimizer: true });
      startStep = latest.step;
      resumedFrom = latest.step;
    }
  }

  /** Seconds spent per phase in the current step (reported as `time/<phase>` metrics). */
  let timings = { rollout: 0, reward: 0, logprobs: 0, train: 0 };
  const timed = async <T>(phase: keyof typeof timings, work: () => Promise<T>): Promise<T> => {
    const begin = performance.now();
    try {
      return await work();
    } finally {
      timings[phase] += (performance.now() - begin) / 1000;
    }
  };
  const tokenCache = new Map<string, number[]>();
  const tokenize = async (texts: readonly string[]): Promise<number[][]> => {
    const missing = [...new Set(texts.filter((text) => !tokenCache.has(text)))];
    if (missing.length > 0) {
      const ids = await trainer.tokenize(missing);
      for (const [index, text] of missing.entries()) tokenCache.set(text, ids[index]!);
    }
    return texts.map((text) => tokenCache.get(text)!);
  };
  const orderCache = new Map<number, number[]>();

  /** Forward/backward over sequences in micro-batches with the right scales, then one optimizer step. */
  const update = async (sequences: TrainSequence[], learningRate: number) => {
    const loss = levers.loss;
    const tokenCount = sequences.reduce((sum, s) => sum + s.completionTokenIds.length, 0);
    const statistics = { loss: 0, kl: 0, clipFraction: 0, entropy: 0, entropySeen: false };
    for (let offset = 0; offset < sequences.length; offset += config.microBatchSize) {
      const micro = sequences.slice(offset, offset + config.microBatchSize);
      const microTokens = micro.reduce((sum, s) => sum + s.completionTokenIds.length, 0);
      const scale =
        loss.aggregation === 'token-mean'
          ? microTokens / tokenCount
          : loss.aggregation === 'sequence-mean'
            ? micro.length / sequences.length
            : 1;
      const result = await timed('train', () => trainer.forwardBackward(micro, loss, { scale }));
      const share = microTokens / tokenCount;
      statistics.loss += result.loss * (loss.aggregation === 'token-sum' ? 1 : scale);
      statistics.kl += result.kl * share;
      statistics.clipFraction += result.clipFraction * share;
      if (result.entropy !== undefined) {
        statistics.entropy += result.entropy * share;
        statistics.entropySeen = true;
      }
    }
    const step = await timed('train', () =>
      trainer.optimizerStep({
        learningRate,
        ...(config.gradClip === null ? {} : { gradClip: config.gradClip }),
      }),
    );
    return { ...statistics, tokens: tokenCount, gradNorm: step.gradNorm };
  };

  // Sequences never exceed the model's context, whatever the preset asks for.
  const maxContext = (await trainer.policy.info()).maxContext ?? Number.POSITIVE_INFINITY;
  const maxLength = Math.min(config.maxSequenceLength, maxContext);
  const truncate = (promptIds: number[], completionIds: number[]): TrainSequence | null => {
    const room = maxLength - promptIds.length;
    if (room <= 0) return null;
    return { promptTokenIds: promptIds, completionTokenIds: completionIds.slice(0, room) };
  };

  const sftStep = async (step: number, learningRate: number): Promise<StepStatistics> => {
    const data = options.sftData!;
    const examples = Array.from(
      { length: config.batchSize },
      (_, j) => data[epochIndex(data.length, config.seed, step * config.batchSize + j, orderCache)]!,
    );
    const prompts = await tokenize(examples.map((e) => e.prompt));
    const completions = await tokenize(examples.map((e) => `${e.completion}${task.endOfTurn}`));
    const sequences = examples.flatMap((_, index) => truncate(prompts[index]!, completions[index]!) ?? []);
    if (sequences.length === 0)
      throw new ValidationError({
        field: 'sftData',
        message: `every example of step ${step} is longer than maxSequenceLength`,
      });
    const result = await update(sequences, learningRate);
    return {
      loss: result.loss,
      tokens: result.tokens,
      gradNorm: result.gradNorm,
      kl: result.kl,
      clipFraction: result.clipFraction,
      ...(result.entropySeen ? { entropy: result.entropy } : {}),
      extra: { response_length: result.tokens / sequences.length },
    };
  };

  const rollout = async (
    step: number,
    attempt: number,
    items: BenchmarkItem[],
    firstGroup: number,
  ): Promise<RolloutRecord[]> => {
    const engine: EngineV1 = levers.sampler === 'teacher' ? options.teacher! : trainer.policy;
    const sampling = SamplingParamsSchema.parse({
      ...config.rollout,
      stop: [...(config.rollout.stop ?? []), ...task.stop],
    });
    const requests: GenerateRequest[] = items.flatMap((item, index) =>
      Array.from({ length: config.samplesPerPrompt }, (_, sample) => ({
        id: `${firstGroup + index}:${sample}`,
        prompt: task.renderPrompt(item, { enableThinking: false }),
        sampling: { ...sampling, seed: deriveSeed(config.seed, 'rollout', step, attempt, item.id, sample) },
      })),
    );
    const results: GenerateResult[] = await timed('rollout', () =>
      generateAll(engine, requests, options.signal ? { signal: options.signal } : undefined),
    );
    return timed('reward', () =>
      Promise.all(
        results.map(async (result) => {
          const group = Number(result.id.split(':')[0]);
          const item = items[group - firstGroup]!;
          const verdict = await task.scorer.score({
            item,
            completion: result.text,
            finishReason: result.finishReason,
          });
          const penalty = overlongPenalty(result.completionTokens, sampling.maxTokens, levers.overlong);
          return {
            itemId: item.id,
            group,
            completion: result.text,
            finishReason: result.finishReason,
            reward: (verdict.correct ? 1 : 0) + penalty,
            correct: verdict.correct,
          };
        }),
      ),
    );
  };

  const rlStep = async (step: number, learningRate: number): Promise<StepStatistics> => {
    const items = task.items;
    let drawn = 0;
    const draw = (count: number): BenchmarkItem[] =>
      Array.from(
        { length: count },
        () => items[epochIndex(items.length, config.seed, step * config.batchSize + drawn++, orderCache)]!,
      );
    let records = await rollout(step, 0, draw(config.batchSize), 0);
    const allRecords = [...records];
    if (levers.dynamicSampling.enabled) {
      let keep = informativeGroups(records);
      let groups = config.batchSize;
      for (
        let attempt = 1;
        keep.size < config.batchSize && attempt < levers.dynamicSampling.maxBatches;
        attempt++
      ) {
        const more = await rollout(step, attempt, draw(config.batchSize), groups);
        groups += config.batchSize;
        allRecords.push(...more);
        keep = informativeGroups(allRecords);
      }
      const chosen = new Set([...keep].sort((a, b) => a - b).slice(0, config.batchSize));
      records = allRecords.filter((record) => chosen.has(record.group));
    }
    const rewardMean = allRecords.reduce((s, r) => s + r.reward, 0) / allRecords.length;
    const accuracy = allRecords.filter((r) => r.correct).length / allRecords.length;

    let weights = sequenceWeights(
      records.map((r) => ({ group: r.group, reward: r.reward, correct: r.correct })),
      levers,
    );
    let kept = records.map((record, index) => ({ record, weight: weights[index]! }));
    if (levers.bestOfN) {
      const best = new Map<number, (typeof kept)[number]>();
      for (const entry of kept) {
        const current = best.get(entry.record.group);
        if (!current || entry.record.reward > current.record.reward) best.set(entry.record.group, entry);
      }
      kept = [...best.values()];
    }
    if (!levers.negatives) kept = kept.filter((entry) => entry.weight !== 0);
    weights = kept.map((entry) => entry.weight);

    const prompts = await tokenize(
      kept.map((entry) =>
        task.renderPrompt(items.find((i) => i.id === entry.record.itemId)!, { enableThinking: false }),
      ),
    );
    const completions = await tokenize(
      kept.map(
        (entry) => `${entry.record.completion}${entry.record.finishReason === 'stop' ? task.endOfTurn : ''}`,
      ),
    );
    const sequences: { sequence: TrainSequence; group: number }[] = [];
    kept.forEach((entry, index) => {
      const base = truncate(prompts[index]!, completions[index]!);
      if (!base || base.completionTokenIds.length === 0) return;
      sequences.push({
        sequence: { ...base, weights: new Array(base.completionTokenIds.length).fill(weights[index]!) },
        group: entry.record.group,
      });
    });
    const responseLength =
      allRecords.length === 0
        ? 0
        : (await tokenize(allRecords.map((r) => r.completion))).reduce((s, ids) => s + ids.length, 0) /
          allRecords.length;
    const extra = {
      reward: rewardMean,
      accuracy,
      response_length: responseLength,
      sequences: sequences.length,
      learning_rate: learningRate,
    };
    if (sequences.length === 0) return { loss: 0, tokens: 0, gradNorm: 0, kl: 0, clipFraction: 0, extra };

    const plain = sequences.map((s) => s.sequence);
    if (levers.loss.clip) {
      const old = await timed('logprobs', () => trainer.logprobs(plain, 'policy'));
      plain.forEach((sequence, index) => {
        sequence.oldLogprobs = old[index]!;
      });
    }
    if (levers.loss.klBeta > 0) {
      const reference = await timed('logprobs', () => trainer.logprobs(plain, 'reference'));
      plain.forEach((sequence, index) => {
        sequence.refLogprobs = reference[index]!;
      });
    }
    // PPO mini-batches: groups of `miniBatchSize` prompts, one optimizer update each.
    const groupIds = [...new Set(sequences.map((s) => s.group))];
    const miniBatch = config.miniBatchSize ?? config.batchSize;
    const totals = {
      loss: 0,
      tokens: 0,
      gradNorm: 0,
      kl: 0,
      clipFraction: 0,
      entropy: 0,
      entropySeen: false,
      updates: 0,
    };
    for (let offset = 0; offset < groupIds.length; offset += miniBatch) {
      const chosen = new Set(groupIds.slice(offset, offset + miniBatch));
      const result = await update(
        sequences.filter((s) => chosen.has(s.group)).map((s) => s.sequence),
        learningRate,
      );
      totals.loss += result.loss;
      totals.tokens += result.tokens;
      totals.gradNorm += result.gradNorm;
      totals.kl += result.kl;
      totals.clipFraction += result.clipFraction;
      totals.entropy += result.entropy;
      totals.entropySeen ||= result.entropySeen;
      totals.updates += 1;
    }
    const n = totals.updates;
    return {
      loss: totals.loss / n,
      tokens: totals.tokens,
      gradNorm: totals.gradNorm / n,
      kl: totals.kl / n,
      clipFraction: totals.clipFraction / n,
      ...(totals.entropySeen ? { entropy: totals.entropy / n } : {}),
      extra,
    };
  };

  let last: Record<string, number> = {};
  let tokensSeen = 0;
  const loopStarted = performance.now();
  let finalCheckpoint: { path: string; sha256: string; bytes: number } | null = null;
  for (let step = startStep; step < totalSteps; step++) {
    if (options.signal?.aborted)
      throw new XferError({ code: 'CANCELLED', message: `training cancelled at step ${step}` });
    const learningRate = learningRateAt(config.schedule, config.learningRate, step, totalSteps);
    timings = { rollout: 0, reward: 0, logprobs: 0, train: 0 };
    const stepStarted = performance.now();
    const statistics =
      recipe.mode === 'sft' ? await sftStep(step, learningRate) : await rlStep(step, learningRate);
    if (!Number.isFinite(statistics.loss))
      throw new TrainingDivergedError({ step, tensor: 'loss', value: statistics.loss });
    if (!Number.isFinite(statistics.gradNorm))
      throw new TrainingDivergedError({ step, tensor: 'gradient norm', value: statistics.gradNorm });
    const stepSeconds = (performance.now() - stepStarted) / 1000;
    const phases = timings.rollout + timings.reward + timings.logprobs + timings.train;
    tokensSeen += statistics.tokens;
    const elapsed = (performance.now() - loopStarted) / 1000;
    const done = step + 1 - startStep;
    const tokensPerSecond = elapsed > 0 ? tokensSeen / elapsed : 0;
    last = {
      loss: statistics.loss,
      grad_norm: statistics.gradNorm,
      kl: statistics.kl,
      clip_fraction: statistics.clipFraction,
      learning_rate: learningRate,
      tokens_per_second: tokensPerSecond,
      ...(statistics.entropy === undefined ? {} : { entropy: statistics.entropy }),
      ...statistics.extra,
      'time/step': stepSeconds,
      'time/rollout': timings.rollout,
      'time/reward': timings.reward,
      'time/logprobs': timings.logprobs,
      'time/train': timings.train,
      'time/driver': Math.max(0, stepSeconds - phases),
    };
    const points: MetricRecord[] = Object.entries(last).map(([name, value]) => ({
      name,
      step: step + 1,
      value,
    }));
    await options.recorder?.metrics(points);
    options.onProgress?.({
      step: step + 1,
      totalSteps,
      loss: statistics.loss,
      ...(statistics.extra.reward === undefined ? {} : { reward: statistics.extra.reward }),
      tokensPerSecond,
      etaSeconds: (elapsed / done) * (totalSteps - step - 1),
    });
    if ((step + 1) % config.checkpointEvery === 0 || step + 1 === totalSteps) {
      const saved = await saveCheckpoint(trainer, options.outputDir, step + 1, hash);
      finalCheckpoint = saved;
      await options.recorder?.checkpoint({
        step: step + 1,
        path: saved.path,
        sha256: saved.sha256,
        bytes: saved.bytes,
      });
    }
    if (
      options.evaluate &&
      config.evalEvery &&
      (step + 1) % config.evalEvery === 0 &&
      step + 1 !== totalSteps
    ) {
      const figures = await options.evaluate(step + 1);
      await options.recorder?.metrics(
        Object.entries(figures).map(([name, value]) => ({ name: `eval/${name}`, step: step + 1, value })),
      );
    }
  }
  const finalModel = join(options.outputDir, 'model');
  const written = await trainer.save(finalModel, { optimizer: false });
  if (options.evaluate) {
    const figures = await options.evaluate(totalSteps, finalModel);
    await options.recorder?.metrics(
      Object.entries(figures).map(([name, value]) => ({ name: `eval/${name}`, step: totalSteps, value })),
    );
    for (const [name, value] of Object.entries(figures)) last[`eval/${name}`] = value;
  }
  void finalCheckpoint;
  return {
    steps: totalSteps,
    resumedFrom,
    finalModel,
    finalSha256: written.sha256,
    seconds: (performance.now() - started) / 1000,
    last,
  };
}
