import { type AnalysisKind, canonicalJson, ValidationError } from '@xfer/core';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { type AnalysisRecord, analysisKindColumn, type JsonObject, JsonObjectSchema } from '../records.js';
import { decodeJson } from '../row.js';
import { analyses } from '../schema.js';
import { newId, notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof analyses.$inferSelect;

function toRecord(row: Row): AnalysisRecord {
  const where = (column: string) => ({ table: 'analyses', column, rowId: row.id });
  return {
    id: row.id,
    experimentId: row.experimentId,
    kind: analysisKindColumn.decode(row.kind, where('kind')),
    inputs: decodeJson(JsonObjectSchema, row.inputsJson, where('inputs_json')),
    result: decodeJson(JsonObjectSchema, row.resultJson, where('result_json')),
    createdAt: row.createdAt,
  };
}

/** Analyses (TI, PCA shift, token shift, reports): their inputs (run ids, settings) and results. */
export class AnalysisRepository {
  constructor(private readonly db: StoreDatabase) {}

  create(input: {
    id?: string;
    experimentId?: string | null;
    kind: AnalysisKind;
    inputs: JsonObject;
    result: JsonObject;
  }): AnalysisRecord {
    if (!analysisKindColumn.has(input.kind)) {
      throw new ValidationError({ field: 'kind', message: `unknown analysis kind ${String(input.kind)}` });
    }
    const row = write('analyses', () =>
      this.db
        .insert(analyses)
        .values({
          id: input.id ?? newId('analysis'),
          experimentId: input.experimentId ?? null,
          kind: input.kind,
          inputsJson: canonicalJson(input.inputs),
          resultJson: canonicalJson(input.result),
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  get(id: string): AnalysisRecord | undefined {
    const row = this.db.select().from(analyses).where(eq(analyses.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): AnalysisRecord {
    const found = this.get(id);
    if (!found) throw notFound('analyses', id);
    return found;
  }

  list(filter: { kind?: AnalysisKind; experimentId?: string } = {}): AnalysisRecord[] {
    const conditions: SQL[] = [];
    if (filter.kind !== undefined) conditions.push(eq(analyses.kind, filter.kind));
    if (filter.experimentId !== undefined) conditions.push(eq(analyses.experimentId, filter.experimentId));
    return this.db
      .select()
      .from(analyses)
      .where(and(...conditions))
      .orderBy(asc(analyses.createdAt), asc(analyses.id))
      .all()
      .map(toRecord);
  }
}
