import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { canonicalJson } from '@xfer/core';

/** Hex sha256 of a string or bytes (strings are hashed as UTF-8). */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The request hash of a sample: sha256 over the canonical JSON of everything that moves a score (model and
 * chat-template hashes, prompt, sampling parameters, seed, sample index, scorer version...). Key order
 * never matters; `undefined` fields are dropped.
 */
export function requestHash(parts: Record<string, unknown>): string {
  return sha256(canonicalJson(parts));
}

/** Stream a file through sha256: its hex digest and size in bytes (for checkpoints and artifacts). */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
