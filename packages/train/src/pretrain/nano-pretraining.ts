import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointWritten, OptimizerConfig, TrainerV1 } from '@xfer/core';
import { buildNanoCorpus, type ChatRenderer } from '@xfer/eval';
import type { PretrainPreset } from './presets.js';
import { type PretrainResult, type PretrainStep, pretrain } from './pretrain.js';

/** Creates a freshly initialised trainer (e.g. engine-nano's) for an architecture and seed. */
export type PretrainTrainerFactory = (
  architecture: PretrainPreset['architecture'],
  options: { seed: number; optimizer: OptimizerConfig },
) => Promise<TrainerV1> | TrainerV1;

export interface NanoPretrainingOptions {
  preset: PretrainPreset;
  seed: number;
  /** Checkpoint directory (written in Hugging Face format by the trainer). */
  outputDir: string;
  createTrainer: PretrainTrainerFactory;
  /** The model's chat template (the corpus is rendered through it). */
  render: ChatRenderer;
  onStep?: (step: PretrainStep) => void;
  signal?: AbortSignal;
  /** What computed it (e.g. engine-nano's kernels and threads), recorded in `pretraining.json`. */
  compute?: { kernels: string; threads: number };
}

/** The record written beside the checkpoint as `pretraining.json`. */
export interface PretrainingRecord {
  preset: PretrainPreset;
  seed: number;
  corpus: { documents: number; sequences: number; skipped: number };
  steps: number;
  tokens: number;
  /** Wall-clock seconds: corpus, training and saving. */
  seconds: number;
  finalLoss: number;
  lossCurve: PretrainResult['lossCurve'];
  checkpoint: CheckpointWritten;
  /** The kernels and threads it was computed with (the kernel decides the last bits of the weights). */
  compute?: { kernels: string; threads: number };
  node: string;
  finishedAt: string;
}

/** The documents `runNanoPretraining` trains on for a preset and seed (the corpus options of the preset). */
export function nanoPretrainingCorpus(preset: PretrainPreset, seed: number, render: ChatRenderer) {
  return buildNanoCorpus({
    seed,
    itemsPerTask: preset.corpus.itemsPerTask,
    knowledgeRepeats: preset.corpus.knowledgeRepeats,
    statementsPerTask: preset.corpus.statementsPerTask,
    factRepeats: preset.corpus.factRepeats,
    workedPerTask: preset.corpus.workedPerTask,
    workedChatShare: preset.corpus.workedChatShare,
    copyDrills: preset.corpus.copyDrills,
    render,
  });
}

/**
 * Pretrain a nano base model: build the nano-suite corpus (training splits of the twelve tasks plus the
 * knowledge-base facts, in the plain base style), initialise a trainer from the preset's architecture and
 * the seed, train, and write the checkpoint plus `pretraining.json`. The same preset and seed give a
 * bit-identical `model.safetensors`.
 */
export async function runNanoPretraining(options: NanoPretrainingOptions): Promise<PretrainingRecord> {
  const started = performance.now();
  const { preset, seed } = options;
  const documents = nanoPretrainingCorpus(preset, seed, options.render);
  const optimizer: OptimizerConfig = {
    kind: 'adamw',
    beta1: preset.beta1,
    beta2: preset.beta2,
    eps: 1e-8,
    weightDecay: preset.weightDecay,
  };
  const trainer = await options.createTrainer(preset.architecture, { seed, optimizer });
  try {
    const result = await pretrain({
      trainer,
      documents,
      preset,
      seed,
      ...(options.onStep ? { onStep: options.onStep } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await mkdir(options.outputDir, { recursive: true });
    const checkpoint = await trainer.save(options.outputDir);
    const record: PretrainingRecord = {
      preset,
      seed,
      corpus: { documents: documents.length, sequences: result.sequences, skipped: result.skipped },
      steps: result.steps,
      tokens: result.tokens,
      seconds: (performance.now() - started) / 1000,
      finalLoss: result.finalLoss,
      lossCurve: result.lossCurve,
      checkpoint,
      ...(options.compute ? { compute: options.compute } : {}),
      node: process.version,
      finishedAt: new Date().toISOString(),
    };
    await writeFile(join(options.outputDir, 'pretraining.json'), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    await trainer.close();
  }
}
