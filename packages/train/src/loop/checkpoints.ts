import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson, type TrainerV1 } from '@xfer/core';
import { z } from 'zod';

const DriverStateSchema = z.object({
  step: z.number().int().nonnegative(),
  configHash: z.string(),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type DriverState = z.infer<typeof DriverStateSchema>;

const STATE_FILE = 'driver-state.json';

export function checkpointDirectory(outputDir: string, step: number): string {
  return join(outputDir, 'checkpoints', `step-${String(step).padStart(6, '0')}`);
}

/**
 * Save weights + optimizer state, then the driver state as the commit marker: a checkpoint without the
 * marker (a kill during `save`) is ignored on resume. The marker itself is written to a temp name and renamed.
 */
export async function saveCheckpoint(
  trainer: TrainerV1,
  outputDir: string,
  step: number,
  configHash: string,
): Promise<DriverState & { path: string }> {
  const directory = checkpointDirectory(outputDir, step);
  await mkdir(directory, { recursive: true });
  const written = await trainer.save(directory, { optimizer: true });
  const state: DriverState = { step, configHash, sha256: written.sha256, bytes: written.bytes };
  const temporary = join(directory, `${STATE_FILE}.tmp-${process.pid}`);
  await writeFile(temporary, `${JSON.stringify(state)}\n`);
  await rename(temporary, join(directory, STATE_FILE));
  return { ...state, path: directory };
}

/** The latest committed checkpoint in `outputDir`, or null. */
export async function latestCheckpoint(outputDir: string): Promise<(DriverState & { path: string }) | null> {
  const root = join(outputDir, 'checkpoints');
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return null;
  }
  for (const name of names
    .filter((n) => /^step-\d+$/.test(n))
    .sort()
    .reverse()) {
    const file = join(root, name, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // no marker: the save never finished
    }
    const state = DriverStateSchema.parse(parseJson(text, { file }));
    return { ...state, path: join(root, name) };
  }
  return null;
}

/** Keep the newest `keep` committed checkpoints, delete older ones and unfinished ones. */
export async function pruneCheckpoints(outputDir: string, keep: number): Promise<void> {
  const root = join(outputDir, 'checkpoints');
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => /^step-\d+$/.test(n)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep)))
    await rm(join(root, name), { recursive: true, force: true });
}
