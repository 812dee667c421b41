import { canonicalJson, ValidationError } from '@xfer/core';
import type Database from 'better-sqlite3';
import { asc, eq, sql } from 'drizzle-orm';
import {
  type DatasetKind,
  type DatasetRecord,
  datasetKindColumn,
  type JsonObject,
  JsonObjectSchema,
} from '../records.js';
import { decodeJson } from '../row.js';
import { datasets } from '../schema.js';
import { newId, notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof datasets.$inferSelect;

function toRecord(row: Row): DatasetRecord {
  const where = (column: string) => ({ table: 'datasets', column, rowId: row.id });
  return {
    id: row.id,
    name: row.name,
    kind: datasetKindColumn.decode(row.kind, where('kind')),
    provenance: decodeJson(JsonObjectSchema, row.provenanceJson, where('provenance_json')),
    rowCount: row.rowCount,
    createdAt: row.createdAt,
  };
}

/** A dataset row as stored: its position and its JSON object. */
export interface DatasetRow {
  index: number;
  data: JsonObject;
}

/**
 * Datasets built for training (SFT examples from teacher rejection sampling, RL prompt sets), with their
 * provenance (teacher, sampling settings, acceptance rates, filters) and ordered rows.
 */
export class DatasetRepository {
  private readonly insertRow: Database.Statement;
  private readonly selectRows: Database.Statement;

  constructor(
    private readonly db: StoreDatabase,
    private readonly sqlite: Database.Database,
  ) {
    this.insertRow = sqlite.prepare(
      'INSERT INTO dataset_rows (dataset_id, row_index, data_json) VALUES (?, ?, ?)',
    );
    this.selectRows = sqlite.prepare(
      'SELECT id, row_index, data_json FROM dataset_rows WHERE dataset_id = ? AND row_index >= ? ORDER BY row_index LIMIT ?',
    );
  }

  create(input: { id?: string; name: string; kind: DatasetKind; provenance?: JsonObject }): DatasetRecord {
    if (!datasetKindColumn.has(input.kind)) {
      throw new ValidationError({ field: 'kind', message: `unknown dataset kind ${String(input.kind)}` });
    }
    const row = write('datasets', () =>
      this.db
        .insert(datasets)
        .values({
          id: input.id ?? newId('data'),
          name: input.name,
          kind: input.kind,
          provenanceJson: canonicalJson(input.provenance ?? {}),
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  get(id: string): DatasetRecord | undefined {
    const row = this.db.select().from(datasets).where(eq(datasets.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): DatasetRecord {
    const found = this.get(id);
    if (!found) throw notFound('datasets', id);
    return found;
  }

  getByName(name: string): DatasetRecord | undefined {
    const row = this.db.select().from(datasets).where(eq(datasets.name, name)).get();
    return row && toRecord(row);
  }

  list(): DatasetRecord[] {
    return this.db
      .select()
      .from(datasets)
      .orderBy(asc(datasets.createdAt), asc(datasets.id))
      .all()
      .map(toRecord);
  }

  /** Replace the provenance (e.g. once acceptance rates are known). */
  setProvenance(id: string, provenance: JsonObject): DatasetRecord {
    const row = this.db
      .update(datasets)
      .set({ provenanceJson: canonicalJson(provenance) })
      .where(eq(datasets.id, id))
      .returning()
      .get();
    if (!row) throw notFound('datasets', id);
    return toRecord(row);
  }

  /** Append rows after the existing ones, in one transaction; returns the new row count. */
  appendRows(datasetId: string, rows: readonly JsonObject[]): number {
    rows.forEach((row, index) => {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        throw new ValidationError({ field: `rows[${index}]`, message: 'expected a JSON object' });
      }
    });
    return write('dataset_rows', () =>
      this.sqlite
        .transaction(() => {
          const current = this.db
            .select({ count: datasets.rowCount })
            .from(datasets)
            .where(eq(datasets.id, datasetId))
            .get();
          if (!current) throw notFound('datasets', datasetId);
          for (const [offset, row] of rows.entries()) {
            this.insertRow.run(datasetId, current.count + offset, JSON.stringify(row));
          }
          const count = current.count + rows.length;
          this.db
            .update(datasets)
            .set({ rowCount: sql`${count}` })
            .where(eq(datasets.id, datasetId))
            .run();
          return count;
        })
        .immediate(),
    );
  }

  /** Rows from `offset` (default 0), at most `limit` (default all), in order. */
  listRows(datasetId: string, options: { offset?: number; limit?: number } = {}): DatasetRow[] {
    const rows = this.selectRows.all(datasetId, options.offset ?? 0, options.limit ?? -1) as {
      id: number;
      row_index: number;
      data_json: string;
    }[];
    return rows.map((row) => ({
      index: row.row_index,
      data: decodeJson(JsonObjectSchema, row.data_json, {
        table: 'dataset_rows',
        column: 'data_json',
        rowId: row.id,
      }),
    }));
  }
}
