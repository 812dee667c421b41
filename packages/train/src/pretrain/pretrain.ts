import { type PolicyLoss, type TrainerV1, type TrainSequence, ValidationError } from '@xfer/core';
import { deriveSeed, epochIndex } from '../loop/random.js';
import { learningRateAt } from '../loop/schedule.js';
import type { PretrainPreset } from './presets.js';

/** One pretraining document: loss on `completion`, `prompt` is context only. */
export interface PretrainDocument {
  prompt: string;
  completion: string;
}

/** What the driver reports after each optimizer step. */
export interface PretrainStep {
  step: number;
  steps: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  /** Tokens processed so far (prompt + completion). */
  tokens: number;
  seconds: number;
}

export interface PretrainOptions {
  trainer: TrainerV1;
  documents: readonly PretrainDocument[];
  preset: PretrainPreset;
  seed: number;
  onStep?: (step: PretrainStep) => void;
  signal?: AbortSignal;
}

export interface PretrainResult {
  steps: number;
  tokens: number;
  seconds: number;
  /** Sequences in the corpus after the length filter, and those left out. */
  sequences: number;
  skipped: number;
  /** Mean loss of the last 10% of steps. */
  finalLoss: number;
  /** Loss averaged over windows of `steps / 50` steps, for the record. */
  lossCurve: { step: number; loss: number }[];
}

const crossEntropy: PolicyLoss = { clip: null, klBeta: 0, aggregation: 'token-mean' };

/**
 * Tokenise documents into training sequences, leaving out those longer than `maxLength`. With
 * `promptLossWeight` > 0 every token after the first carries loss: prompt tokens at that weight, completion
 * tokens at 1.
 */
export async function tokenizeDocuments(
  trainer: TrainerV1,
  documents: readonly PretrainDocument[],
  maxLength: number,
  promptLossWeight = 0,
): Promise<{ sequences: TrainSequence[]; skipped: number }> {
  const sequences: TrainSequence[] = [];
  let skipped = 0;
  const chunk = 2048;
  for (let start = 0; start < documents.length; start += chunk) {
    const slice = documents.slice(start, start + chunk);
    const prompts = await trainer.tokenize(slice.map((document) => document.prompt));
    const completions = await trainer.tokenize(slice.map((document) => document.completion));
    for (let index = 0; index < slice.length; index++) {
      const promptTokenIds = prompts[index]!;
      const completionTokenIds = completions[index]!;
      if (completionTokenIds.length === 0) {
        throw new ValidationError({
          field: `documents[${start + index}].completion`,
          message: 'empty completion',
        });
      }
      if (promptTokenIds.length + completionTokenIds.length > maxLength) skipped++;
      else if (promptLossWeight === 0 || promptTokenIds.length <= 1)
        sequences.push({ promptTokenIds, completionTokenIds });
      else {
        const context = promptTokenIds.slice(1);
        sequences.push({
          promptTokenIds: promptTokenIds.slice(0, 1),
          completionTokenIds: [...context, ...completionTokenIds],
          weights: [...context.map(() => promptLossWeight), ...completionTokenIds.map(() => 1)],
        });
      }
    }
  }
  return { sequences, skipped };
}

/**
 * Pretrain a model from scratch on a corpus with token cross-entropy (the unified loss with q = corpus,
 * w = 1 on completions and `promptLossWeight` on prompts, β = 0), AdamW through the trainer, linear warmup then cosine decay, gradient clipping
 * and accumulation. Batches are a pure function of (seed, step): the same trainer state, corpus and seed
 * give bit-identical weights.
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { trainer, preset } = options;
  if (preset.batchSize % preset.microBatchSize !== 0) {
    throw new ValidationError({
      field: 'microBatchSize',
      message: `batchSize ${preset.batchSize} is not a multiple of ${preset.microBatchSize}`,
    });
  }
  const started = performance.now();
  const { sequences, skipped } = await tokenizeDocuments(
    trainer,
    options.documents,
    preset.maxSequenceLength,
    preset.promptLossWeight,
  );
  if (sequences.length === 0)
    throw new ValidationError({ field: 'documents', message: 'no document fits maxSequenceLength' });
  const accumulation = preset.batchSize / preset.microBatchSize;
  const orderSeed = deriveSeed(options.seed, 'pretrain-order');
  const epochs = new Map<number, number[]>();
  const schedule = {
    kind: 'cosine' as const,
    warmupSteps: preset.warmupSteps,
    minLrRatio: preset.minLrRatio,
  };
  const losses: number[] = [];
  let tokens = 0;
  for (let step = 0; step < preset.steps; step++) {
    if (options.signal?.aborted) throw options.signal.reason;
    let stepLoss = 0;
    const batch: TrainSequence[] = [];
    for (let row = 0; row < preset.batchSize; row++) {
      const sequence =
        sequences[epochIndex(sequences.length, orderSeed, step * preset.batchSize + row, epochs)]!;
      tokens += sequence.promptTokenIds.length + sequence.completionTokenIds.length;
      batch.push(sequence);
    }
    const batchTokens = batch.reduce((total, sequence) => total + sequence.completionTokenIds.length, 0);
    for (let offset = 0; offset < batch.length; offset += preset.microBatchSize) {
      const micro = batch.slice(offset, offset + preset.microBatchSize);
      // A micro-batch's token mean counts in proportion to its tokens, so that the accumulated gradient is
      // the whole batch's token mean (as the training driver does).
      const scale =
        micro.reduce((total, sequence) => total + sequence.completionTokenIds.length, 0) / batchTokens;
      const result = await trainer.forwardBackward(micro, crossEntropy, accumulation === 1 ? {} : { scale });
      stepLoss += result.loss * scale;
    }
    const learningRate = learningRateAt(schedule, preset.learningRate, step, preset.steps);
    const { gradNorm } = await trainer.optimizerStep({
      learningRate,
      ...(preset.gradClip === null ? {} : { gradClip: preset.gradClip }),
    });
    losses.push(stepLoss);
    options.onStep?.({
      step: step + 1,
      steps: preset.steps,
      loss: stepLoss,
      gradNorm,
      learningRate,
      tokens,
      seconds: (performance.now() - started) / 1000,
    });
  }
  const window = Math.max(1, Math.floor(preset.steps / 50));
  const lossCurve: PretrainResult['lossCurve'] = [];
  for (let start = 0; start < losses.length; start += window) {
    const slice = losses.slice(start, start + window);
    lossCurve.push({
      step: start + slice.length,
      loss: slice.reduce((total, value) => total + value, 0) / slice.length,
    });
  }
  const tail = losses.slice(Math.floor(losses.length * 0.9));
  return {
    steps: preset.steps,
    tokens,
    seconds: (performance.now() - started) / 1000,
    sequences: sequences.length,
    skipped,
    finalLoss: tail.reduce((total, value) => total + value, 0) / Math.max(1, tail.length),
    lossCurve,
  };
}
