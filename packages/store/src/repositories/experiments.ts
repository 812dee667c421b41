import { canonicalJson } from '@xfer/core';
import { asc, eq } from 'drizzle-orm';
import { type ExperimentRecord, type JsonObject, JsonObjectSchema } from '../records.js';
import { decodeJson } from '../row.js';
import { experiments } from '../schema.js';
import { newId, notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof experiments.$inferSelect;

function toRecord(row: Row): ExperimentRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    config: decodeJson(JsonObjectSchema, row.configJson, {
      table: 'experiments',
      column: 'config_json',
      rowId: row.id,
    }),
    createdAt: row.createdAt,
  };
}

/** Experiments: named studies that group models, runs and analyses. */
export class ExperimentRepository {
  constructor(private readonly db: StoreDatabase) {}

  /** Create an experiment; a duplicate name is a `CONFLICT`. */
  create(input: { id?: string; name: string; description?: string; config?: JsonObject }): ExperimentRecord {
    const row = write('experiments', () =>
      this.db
        .insert(experiments)
        .values({
          id: input.id ?? newId('exp'),
          name: input.name,
          description: input.description ?? '',
          configJson: canonicalJson(input.config ?? {}),
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  /** The experiment named `name`, created if missing. */
  ensure(name: string, input: { description?: string; config?: JsonObject } = {}): ExperimentRecord {
    return this.getByName(name) ?? this.create({ name, ...input });
  }

  get(id: string): ExperimentRecord | undefined {
    const row = this.db.select().from(experiments).where(eq(experiments.id, id)).get();
    return row && toRecord(row);
  }

  /** Like `get`, but a missing id is a `NOT_FOUND` error. */
  require(id: string): ExperimentRecord {
    const found = this.get(id);
    if (!found) throw notFound('experiments', id);
    return found;
  }

  getByName(name: string): ExperimentRecord | undefined {
    const row = this.db.select().from(experiments).where(eq(experiments.name, name)).get();
    return row && toRecord(row);
  }

  list(): ExperimentRecord[] {
    return this.db.select().from(experiments).orderBy(asc(experiments.createdAt)).all().map(toRecord);
  }
}
