import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ModelRef, parseModelRef, ValidationError } from '@xfer/core';
import type { PipelineEngines } from '@xfer/pipeline';

/** Where named nano checkpoints live: `$XFER_NANO_MODELS`, `./models`, then the repository's `models/`. */
export function nanoSearchPaths(): string[] {
  const repository = fileURLToPath(new URL('../../../models', import.meta.url));
  return [
    ...(process.env.XFER_NANO_MODELS ? [process.env.XFER_NANO_MODELS] : []),
    'models',
    repository,
  ].filter((path, index, all) => all.indexOf(path) === index);
}

/** Resolve a nano model argument (`nano-base`, `nano:<dir>`, `./dir`) to its checkpoint directory. */
export async function resolveNanoModel(
  text: string,
): Promise<{ name: string; ref: ModelRef; directory: string }> {
  // A directory that holds a checkpoint is that checkpoint, even where its path reads like a hub id
  // (`models/nano-base`).
  const ref: ModelRef = existsSync(`${text}/config.json`)
    ? { kind: 'local', path: text }
    : parseModelRef(text);
  if (ref.kind !== 'nano' && ref.kind !== 'local') {
    throw new ValidationError({
      field: '--base',
      message: `training runs on nano checkpoints here; got ${text}, which is neither a nano model name nor a directory with a config.json (GPU training goes through the torch worker)`,
    });
  }
  const { resolveNanoDirectory } = await import('@xfer/engine-nano');
  const directory = resolveNanoDirectory(ref, nanoSearchPaths());
  if (!existsSync(`${directory}/config.json`))
    throw new ValidationError({ field: '--base', message: `no checkpoint at ${directory}` });
  return { name: ref.kind === 'nano' && ref.name ? ref.name : text, ref, directory };
}

/** The pipeline's engines on a CPU: engine-nano for policy and evaluation, the programmatic teacher for SFT. */
export async function nanoPipelineEngines(): Promise<PipelineEngines> {
  const nano = await import('@xfer/engine-nano');
  const { NanoTeacherEngine } = await import('@xfer/eval');
  return {
    createEngine: async (directory) => nano.createNanoEngine(directory),
    createTrainer: async (directory, options) =>
      new nano.NanoTrainer(await nano.loadNanoCheckpoint(directory), { optimizer: options.optimizer }),
    createTeacher: async (mode) => new NanoTeacherEngine({ mode }),
  };
}
