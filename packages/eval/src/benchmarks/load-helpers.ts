import { join } from 'node:path';
import { parseWith } from '@xfer/core';
import type { z } from 'zod';
import { requireDataDir } from '../data/data-dir.js';
import { downloadHubFile, type HubFile, readHubRows } from '../data/hub.js';
import { type LocatedRecord, readTextFile } from '../data/read-records.js';
import type { LoadOptions } from '../registry/benchmark.js';

/** A record with the file it came from. */
export interface SourcedRecord<T> extends LocatedRecord<T> {
  file: string;
}

/**
 * Read the local files of a benchmark (`options.files`, else `defaults` inside `<dataDir>/<folder>`), parsing each
 * with `parse` (which validates and reports file and line).
 */
export async function readLocalRecords<T>(
  options: LoadOptions,
  folder: string,
  defaults: readonly string[],
  parse: (text: string, file: string) => LocatedRecord<T>[],
): Promise<SourcedRecord<T>[]> {
  const files = options.files ?? defaults.map((name) => join(requireDataDir(options.dataDir), folder, name));
  const records: SourcedRecord<T>[] = [];
  for (const file of files) {
    const text = await readTextFile(file);
    for (const record of parse(text, file)) records.push({ ...record, file });
  }
  return records;
}

/** Download (or reuse from cache) hub files and validate every row against `schema`, naming url and row. */
export async function readHubRecords<S extends z.ZodType>(
  options: LoadOptions,
  files: readonly HubFile[],
  schema: S,
): Promise<SourcedRecord<z.output<S>>[]> {
  const records: SourcedRecord<z.output<S>>[] = [];
  for (const file of files) {
    const downloaded = await downloadHubFile(file, options.hub);
    for (const row of await readHubRows(downloaded)) {
      records.push({
        value: parseWith(schema, row.value, {
          file: downloaded.url,
          line: row.line,
          code: 'INVALID_DATA_FILE',
        }),
        line: row.line,
        file: downloaded.url,
      });
    }
  }
  return records;
}
