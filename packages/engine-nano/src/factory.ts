import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineError, type ModelRef } from '@xfer/core';
import { loadNanoCheckpoint } from './checkpoint.js';
import { NanoEngine, type NanoEngineOptions } from './engine.js';

export interface CreateNanoEngineOptions extends NanoEngineOptions {
  /**
   * Directories searched for a named checkpoint (`nano-base` → `<dir>/nano-base/`), in order. Defaults to
   * `$XFER_NANO_MODELS` when set.
   */
  searchPaths?: string[];
}

/** Resolve a nano model reference (or a directory path) to a checkpoint directory. */
export function resolveNanoDirectory(ref: ModelRef | string, searchPaths: readonly string[] = []): string {
  if (typeof ref === 'string') return resolve(ref);
  if (ref.kind === 'local') return resolve(ref.path);
  if (ref.kind !== 'nano')
    throw new EngineError({
      engine: 'nano',
      code: 'ENGINE_UNSUPPORTED',
      message: `cannot serve a ${ref.kind} model`,
    });
  if (ref.path !== undefined) return resolve(ref.path);
  const paths = [...searchPaths, ...(process.env.XFER_NANO_MODELS ? [process.env.XFER_NANO_MODELS] : [])];
  for (const base of paths) {
    const candidate = resolve(base, ref.name!);
    if (existsSync(join(candidate, 'config.json'))) return candidate;
  }
  throw new EngineError({
    engine: 'nano',
    code: 'ENGINE_REQUEST_FAILED',
    message: `no checkpoint named ${ref.name} in ${paths.length > 0 ? paths.join(', ') : '(no search paths; set XFER_NANO_MODELS)'}`,
  });
}

/** Build a NanoEngine from a ModelRef ({kind:'nano', name | path}) or a checkpoint directory. */
export async function createNanoEngine(
  ref: ModelRef | string,
  options: CreateNanoEngineOptions = {},
): Promise<NanoEngine> {
  const directory = resolveNanoDirectory(ref, options.searchPaths);
  const model = await loadNanoCheckpoint(directory);
  const name =
    options.name ?? (typeof ref === 'object' && ref.kind === 'nano' && ref.name ? ref.name : directory);
  return new NanoEngine(model, { ...options, name });
}
