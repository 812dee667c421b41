import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CheckpointWritten,
  type ForwardBackwardResult,
  type OptimizerConfig,
  type OptimizerConfigSchema,
  OptimizerConfigSchema as OptimizerSchema,
  type OptimizerStepResult,
  type PolicyLoss,
  PolicyLossSchema,
  parseJson,
  parseWith,
  type TrainerV1,
  TrainingDivergedError,
  type TrainSequence,
  TrainSequenceSchema,
  ValidationError,
} from '@xfer/core';
import type { z } from 'zod';
import { loadNanoCheckpoint, saveNanoCheckpoint, writeFileAtomic } from './checkpoint.js';
import { NanoEngine, type NanoEngineOptions } from './engine.js';
import { backendFor } from './kernels/backend.js';
import type { FloatArray } from './kernels/matmul.js';
import { withoutGemmHelper } from './kernels/wasm-matmul.js';
import { cloneModel, FloatArena, type NanoModel, withArena } from './model.js';
import { completionLogprobs, type PolicyLossOutcome, packSequences, policyLoss } from './policy-loss.js';
import { addGradients, sharedReplica, splitPoint } from './replica.js';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from './safetensors.js';
import { decodeTokens, encodeText } from './tokenizer.js';
import { type Gradients, zeroGradients } from './transformer.js';

export interface NanoTrainerOptions extends NanoEngineOptions {
  optimizer?: z.input<typeof OptimizerConfigSchema>;
}

const optimizerFile = 'optimizer.safetensors';

/**
 * engine-nano as a `TrainerV1`: holds the policy (served by `policy`), an optional frozen reference and
 * AdamW state. `forwardBackward` accumulates gradients; `optimizerStep` clips, applies AdamW (decoupled
 * weight decay on matrices, not on norm weights; bias-corrected moments) and clears them. A NaN/Inf loss or
 * gradient throws TrainingDivergedError naming the step and tensor, and the trainer then refuses to save.
 */
export class NanoTrainer implements TrainerV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'nano';
  readonly policy: NanoEngine;
  model: NanoModel;
  private reference: NanoModel | undefined;
  private gradients: Gradients;
  /** The second shard's gradients when this thread computes it (see `replica.ts`). */
  private shardGradients: Gradients | undefined;
  private firstMoment: Gradients;
  private secondMoment: Gradients;
  private optimizerConfig: OptimizerConfig;
  private step = 0;
  /** Activation buffers reused from one forward/backward to the next. */
  private readonly arena = new FloatArena();
  private diverged: TrainingDivergedError | undefined;

  constructor(model: NanoModel, options: NanoTrainerOptions = {}) {
    this.model = model;
    this.policy = new NanoEngine(model, options);
    this.optimizerConfig = parseWith(OptimizerSchema, options.optimizer ?? {}, { field: 'optimizer' });
    this.gradients = zeroGradients(model);
    this.firstMoment = zeroGradients(model);
    this.secondMoment = zeroGradients(model);
  }

  /** Optimizer steps taken so far. */
  get stepsTaken(): number {
    return this.step;
  }

  async tokenize(texts: readonly string[]): Promise<number[][]> {
    return texts.map((text) => encodeText(text));
  }

  async detokenize(tokenIds: readonly number[][]): Promise<string[]> {
    return tokenIds.map((ids) => decodeTokens(ids));
  }

  private parseSequences(sequences: readonly TrainSequence[]): TrainSequence[] {
    // A plain loop accepts the well-formed sequences of every step (zod cost ~5 ms a step in pretraining);
    // anything else goes through the schema, which names the bad field.
    return sequences.map((sequence, i) =>
      isWellFormedSequence(sequence)
        ? sequence
        : parseWith(TrainSequenceSchema, sequence, { field: `sequences[${i}]` }),
    );
  }

  async logprobs(sequences: readonly TrainSequence[], model: 'policy' | 'reference'): Promise<number[][]> {
    const target = model === 'policy' ? this.model : this.reference;
    if (!target)
      throw new ValidationError({
        field: 'model',
        message: 'no reference snapshotted (call snapshotReference first)',
      });
    return this.shardedLogprobs(target, this.parseSequences(sequences));
  }

  /** Completion logprobs in two shards (the second on the replica when one is free): the same numbers. */
  private async shardedLogprobs(model: NanoModel, sequences: TrainSequence[]): Promise<number[][]> {
    packSequences(sequences, model.config.vocab_size, model.config.max_position_embeddings);
    const cut = splitPoint(sequences.map(sequenceLength));
    const second = sequences.slice(cut);
    const replica = second.length > 0 ? sharedReplica() : undefined;
    const remote = replica?.available(model) ? replica.logprobs(model, second, cut) : undefined;
    const backend = backendFor(model.dtype);
    const compute = (shard: TrainSequence[], firstIndex: number) =>
      withArena(this.arena, () => completionLogprobs(model, backend, shard, firstIndex));
    const first = remote
      ? withoutGemmHelper(() => compute(sequences.slice(0, cut), 0))
      : compute(sequences.slice(0, cut), 0);
    if (second.length === 0) return first;
    return [...first, ...((remote ? await remote : undefined) ?? compute(second, cut))];
  }

  async forwardBackward(
    sequences: readonly TrainSequence[],
    loss: PolicyLoss,
    options: { scale?: number } = {},
  ): Promise<ForwardBackwardResult> {
    const scale = options.scale ?? 1;
    if (!(scale > 0 && Number.isFinite(scale))) {
      throw new ValidationError({
        field: 'scale',
        message: `expected a positive finite number, got ${scale}`,
      });
    }
    const parsed = this.parseSequences(sequences);
    const lossConfig = parseWith(PolicyLossSchema, loss, { field: 'loss' });
    const model = this.model;
    const config = model.config;
    // the whole batch is checked before any shard adds to the gradients (an error leaves them as they were)
    packSequences(parsed, config.vocab_size, config.max_position_embeddings);
    let referenceLogprobs: number[][] | undefined;
    if (lossConfig.klBeta > 0 && parsed.some((sequence) => sequence.refLogprobs === undefined)) {
      if (!this.reference) {
        const missing = parsed.findIndex((sequence) => sequence.refLogprobs === undefined);
        throw new ValidationError({
          field: `sequences[${missing}].refLogprobs`,
          message: 'klBeta > 0 needs reference logprobs or a snapshotted reference',
        });
      }
      referenceLogprobs = await this.shardedLogprobs(this.reference, parsed);
    }
    const cut = splitPoint(parsed.map(sequenceLength));
    const shards = [parsed.slice(0, cut), parsed.slice(cut)] as const;
    const batch = (firstIndex: number) => ({
      tokens: parsed.reduce((sum, sequence) => sum + sequence.completionTokenIds.length, 0),
      sequences: parsed.length,
      firstIndex,
    });
    const references = (from: number, to: number) =>
      referenceLogprobs ? { referenceLogprobs: referenceLogprobs.slice(from, to) } : {};
    const backend = backendFor(model.dtype);
    const compute = (index: 0 | 1, gradients: Gradients) =>
      withArena(this.arena, () =>
        policyLoss(model, backend, shards[index], lossConfig, {
          gradients,
          scale,
          batch: batch(index === 0 ? 0 : cut),
          ...(index === 0 ? references(0, cut) : references(cut, parsed.length)),
        }),
      );
    const replica = shards[1].length > 0 ? sharedReplica() : undefined;
    const remote = replica?.available(model)
      ? replica.loss(model, shards[1], lossConfig, {
          scale,
          batch: batch(cut),
          ...references(cut, parsed.length),
        })
      : undefined;
    const outcomes: PolicyLossOutcome[] = [
      remote ? withoutGemmHelper(() => compute(0, this.gradients)) : compute(0, this.gradients),
    ];
    if (shards[1].length > 0) {
      const done = remote ? await remote : undefined;
      if (done) {
        outcomes.push(done.outcome);
        addGradients(this.gradients, done.gradients);
        done.release();
      } else {
        this.shardGradients ??= zeroGradients(model);
        for (const gradient of this.shardGradients.values()) gradient.fill(0);
        outcomes.push(compute(1, this.shardGradients));
        addGradients(this.gradients, this.shardGradients);
      }
    }
    const outcome = combineOutcomes(outcomes, lossConfig.klBeta > 0);
    if (!Number.isFinite(outcome.loss)) {
      for (const gradient of this.gradients.values()) gradient.fill(0);
      this.diverged = new TrainingDivergedError({ step: this.step + 1, tensor: 'loss', value: outcome.loss });
      throw this.diverged;
    }
    return {
      loss: outcome.loss,
      tokens: outcome.tokens,
      clipFraction: outcome.clipFraction,
      kl: outcome.kl,
      entropy: outcome.entropy,
      logprobs: outcome.logprobs,
    };
  }

  async optimizerStep(options: { learningRate: number; gradClip?: number }): Promise<OptimizerStepResult> {
    const step = this.step + 1;
    let squared = 0;
    for (const [name, gradient] of this.gradients) {
      let sum = 0;
      for (let i = 0; i < gradient.length; i++) sum += gradient[i]! * gradient[i]!;
      if (!Number.isFinite(sum)) {
        const bad = gradient.find((value) => !Number.isFinite(value)) ?? sum;
        for (const g of this.gradients.values()) g.fill(0);
        this.diverged = new TrainingDivergedError({ step, tensor: `${name} (gradient)`, value: bad });
        throw this.diverged;
      }
      squared += sum;
    }
    const gradNorm = Math.sqrt(squared);
    const clip =
      options.gradClip !== undefined && gradNorm > options.gradClip
        ? options.gradClip / (gradNorm + 1e-6)
        : 1;
    const { beta1, beta2, eps, weightDecay } = this.optimizerConfig;
    const lr = options.learningRate;
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    for (const [name, weights] of this.model.tensors) {
      const gradient = this.gradients.get(name)!;
      const m = this.firstMoment.get(name)!;
      const v = this.secondMoment.get(name)!;
      const decay =
        name.endsWith('norm.weight') || name.endsWith('layernorm.weight') ? 1 : 1 - lr * weightDecay;
      for (let i = 0; i < weights.length; i++) {
        const g = gradient[i]! * clip;
        const mi = beta1 * m[i]! + (1 - beta1) * g;
        const vi = beta2 * v[i]! + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        weights[i] = weights[i]! * decay - (lr * (mi / correction1)) / (Math.sqrt(vi / correction2) + eps);
      }
      gradient.fill(0);
    }
    this.step = step;
    return { gradNorm, learningRate: lr, step };
  }

  async snapshotReference(): Promise<void> {
    this.reference = cloneModel(this.model);
  }

  async save(directory: string, options: { optimizer?: boolean } = {}): Promise<CheckpointWritten> {
    if (this.diverged) throw this.diverged;
    const written = await saveNanoCheckpoint(this.model, directory);
    if (options.optimizer) {
      const entries = new Map<string, TensorEntry>();
      const f32 = (data: FloatArray) => (data instanceof Float32Array ? data : Float32Array.from(data));
      for (const [name, data] of this.firstMoment)
        entries.set(`exp_avg.${name}`, { dtype: 'F32', shape: [data.length], data: f32(data) });
      for (const [name, data] of this.secondMoment)
        entries.set(`exp_avg_sq.${name}`, { dtype: 'F32', shape: [data.length], data: f32(data) });
      await mkdir(directory, { recursive: true });
      await writeFileAtomic(
        join(directory, optimizerFile),
        encodeSafetensors(entries, {
          step: String(this.step),
          optimizer: JSON.stringify(this.optimizerConfig),
        }),
      );
    }
    return written;
  }

  async load(directory: string, options: { optimizer?: boolean } = {}): Promise<void> {
    const model = await loadNanoCheckpoint(directory);
    const shapes = (m: NanoModel) => JSON.stringify(m.config);
    if (shapes(model) !== shapes(this.model)) {
      throw new ValidationError({
        code: 'CHECKPOINT_INVALID',
        file: join(directory, 'config.json'),
        message: 'the checkpoint has a different architecture than this trainer',
      });
    }
    for (const [name, data] of model.tensors) this.model.tensors.get(name)!.set(data);
    for (const gradient of this.gradients.values()) gradient.fill(0);
    this.diverged = undefined;
    if (options.optimizer) {
      const file = join(directory, optimizerFile);
      const decoded = decodeSafetensors(await readFile(file), file);
      for (const [prefix, target] of [
        ['exp_avg', this.firstMoment],
        ['exp_avg_sq', this.secondMoment],
      ] as const) {
        for (const [name, data] of target) {
          const entry = decoded.tensors.get(`${prefix}.${name}`);
          if (!entry?.data || entry.data.length !== data.length) {
            throw new ValidationError({
              code: 'CHECKPOINT_INVALID',
              file,
              field: `${prefix}.${name}`,
              message: 'missing or wrong size',
            });
          }
          data.set(entry.data);
        }
      }
      const step = Number(decoded.metadata.step);
      if (!Number.isInteger(step) || step < 0)
        throw new ValidationError({
          code: 'CHECKPOINT_INVALID',
          file,
          field: '__metadata__.step',
          message: `bad step ${decoded.metadata.step}`,
        });
      this.step = step;
      if (decoded.metadata.optimizer) {
        this.optimizerConfig = parseWith(
          OptimizerSchema,
          parseJson(decoded.metadata.optimizer, { file, field: '__metadata__.optimizer' }),
          { file },
        );
      }
    }
  }

  async close(): Promise<void> {
    await this.policy.close();
  }
}

/** Tokens a sequence puts through the model (what splits a batch into shards). */
function sequenceLength(sequence: TrainSequence): number {
  return sequence.promptTokenIds.length + sequence.completionTokenIds.length;
}

/** One batch's outcome from its shards' (loss and sums added in shard order). */
function combineOutcomes(outcomes: readonly PolicyLossOutcome[], useKl: boolean): PolicyLossOutcome {
  let loss = 0;
  let tokens = 0;
  const sums = { clipped: 0, kl: 0, entropy: 0 };
  for (const outcome of outcomes) {
    loss += outcome.loss;
    tokens += outcome.tokens;
    sums.clipped += outcome.sums.clipped;
    sums.kl += outcome.sums.kl;
    sums.entropy += outcome.sums.entropy;
  }
  return {
    loss,
    tokens,
    clipFraction: tokens === 0 ? 0 : sums.clipped / tokens,
    kl: useKl && tokens > 0 ? sums.kl / tokens : 0,
    entropy: tokens === 0 ? 0 : sums.entropy / tokens,
    logprobs: outcomes.flatMap((outcome) => outcome.logprobs),
    sums,
  };
}

function isTokenArray(value: unknown, minimum: number): boolean {
  if (!Array.isArray(value) || value.length < minimum) return false;
  for (const id of value) if (!(Number.isInteger(id) && id >= 0)) return false;
  return true;
}

function isOptionalNumbers(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  for (const number of value) if (!Number.isFinite(number)) return false;
  return true;
}

/** What `TrainSequenceSchema` accepts, checked without building a parsed copy. */
function isWellFormedSequence(sequence: unknown): sequence is TrainSequence {
  if (typeof sequence !== 'object' || sequence === null) return false;
  const { promptTokenIds, completionTokenIds, weights, oldLogprobs, refLogprobs } = sequence as Record<
    string,
    unknown
  >;
  return (
    isTokenArray(promptTokenIds, 0) &&
    isTokenArray(completionTokenIds, 1) &&
    isOptionalNumbers(weights) &&
    isOptionalNumbers(oldLogprobs) &&
    isOptionalNumbers(refLogprobs)
  );
}
