import {
  canonicalJson,
  type ModelRef,
  ModelRefSchema,
  parseWith,
  type TuningMethod,
  ValidationError,
} from '@xfer/core';
import { asc, eq, sql } from 'drizzle-orm';
import { type StoredModel, tuningMethodColumn } from '../records.js';
import { decodeJson } from '../row.js';
import { models } from '../schema.js';
import { newId, notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof models.$inferSelect;

function toRecord(row: Row): StoredModel {
  const where = { table: 'models', rowId: row.id };
  return {
    id: row.id,
    name: row.name,
    ref: decodeJson(ModelRefSchema, row.refJson, { ...where, column: 'ref_json' }),
    baseModelId: row.baseModelId,
    method: tuningMethodColumn.decode(row.method, { ...where, column: 'method' }),
    recipe: row.recipe,
    modelHash: row.modelHash,
    experimentId: row.experimentId,
    createdAt: row.createdAt,
  };
}

/** Input of {@link ModelRepository.create}. */
export interface CreateModelInput {
  id?: string;
  name: string;
  ref: ModelRef;
  /** The model this one was tuned from (`null`/absent for a base model). */
  baseModelId?: string | null;
  method: TuningMethod;
  recipe?: string | null;
  modelHash?: string | null;
  experimentId?: string | null;
}

/** Models with lineage: base → tuned, with the method and recipe that made each. */
export class ModelRepository {
  constructor(private readonly db: StoreDatabase) {}

  /** Register a model. A missing base model or a duplicate name is a `CONFLICT`. */
  create(input: CreateModelInput): StoredModel {
    const ref = parseWith(ModelRefSchema, input.ref, { field: 'ref' });
    if (!tuningMethodColumn.has(input.method)) {
      throw new ValidationError({
        field: 'method',
        message: `unknown tuning method ${String(input.method)}`,
      });
    }
    const row = write('models', () =>
      this.db
        .insert(models)
        .values({
          id: input.id ?? newId('model'),
          name: input.name,
          refJson: canonicalJson(ref),
          baseModelId: input.baseModelId ?? null,
          method: input.method,
          recipe: input.recipe ?? null,
          modelHash: input.modelHash ?? null,
          experimentId: input.experimentId ?? null,
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  /** The model named `name`, registered with `input` if missing. */
  ensure(input: CreateModelInput): StoredModel {
    return this.getByName(input.name) ?? this.create(input);
  }

  get(id: string): StoredModel | undefined {
    const row = this.db.select().from(models).where(eq(models.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): StoredModel {
    const found = this.get(id);
    if (!found) throw notFound('models', id);
    return found;
  }

  getByName(name: string): StoredModel | undefined {
    const row = this.db.select().from(models).where(eq(models.name, name)).get();
    return row && toRecord(row);
  }

  list(): StoredModel[] {
    return this.db.select().from(models).orderBy(asc(models.createdAt), asc(models.id)).all().map(toRecord);
  }

  /** Set the content hash of a model's weights once known. */
  setModelHash(id: string, modelHash: string): void {
    const result = this.db.update(models).set({ modelHash }).where(eq(models.id, id)).run();
    if (result.changes === 0) throw notFound('models', id);
  }

  /** The model and its ancestors, from it up to the root base model. */
  lineage(id: string): StoredModel[] {
    const rows = this.db.all<{ id: string }>(sql`
      WITH RECURSIVE chain(id, base, depth) AS (
        SELECT id, base_model_id, 0 FROM models WHERE id = ${id}
        UNION ALL
        SELECT m.id, m.base_model_id, chain.depth + 1 FROM models m JOIN chain ON m.id = chain.base WHERE chain.depth < 1000
      )
      SELECT id FROM chain ORDER BY depth`);
    if (rows.length === 0) throw notFound('models', id);
    return rows.map((row) => this.require(row.id));
  }

  /** Every model tuned from this one, directly or transitively, nearest first. */
  descendants(id: string): StoredModel[] {
    const rows = this.db.all<{ id: string }>(sql`
      WITH RECURSIVE tree(id, depth) AS (
        SELECT id, 1 FROM models WHERE base_model_id = ${id}
        UNION ALL
        SELECT m.id, tree.depth + 1 FROM models m JOIN tree ON m.base_model_id = tree.id WHERE tree.depth < 1000
      )
      SELECT id FROM tree ORDER BY depth, id`);
    return rows.map((row) => this.require(row.id));
  }
}
