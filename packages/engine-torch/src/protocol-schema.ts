import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { protocolJsonSchema } from '@xfer/core';

/** The Python worker's package directory (`workers/torch`) in this repository. */
export const defaultWorkerDirectory = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../workers/torch',
);

/** Where the exported JSON Schema lives, inside the worker package. */
export const protocolSchemaPath = (workerDirectory = defaultWorkerDirectory): string =>
  path.join(workerDirectory, 'xfer_worker', 'protocol.schema.json');

/** The exact text the schema file must hold: core's `protocolJsonSchema()`, two-space JSON, final newline. */
export function renderProtocolSchema(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}

/** Does the committed schema file match core? Returns the file's text and the expected text. */
export async function checkProtocolSchema(
  workerDirectory = defaultWorkerDirectory,
): Promise<{ upToDate: boolean; path: string }> {
  const file = protocolSchemaPath(workerDirectory);
  const actual = await readFile(file, 'utf8').catch(() => '');
  return { upToDate: actual === renderProtocolSchema(), path: file };
}

/** Write the schema file atomically (temp file + rename). */
export async function writeProtocolSchema(workerDirectory = defaultWorkerDirectory): Promise<string> {
  const file = protocolSchemaPath(workerDirectory);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, renderProtocolSchema(), 'utf8');
  await rename(temporary, file);
  return file;
}
