import { type ArtifactKind, ValidationError } from '@xfer/core';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { type ArtifactRecord, artifactKindColumn } from '../records.js';
import { artifacts } from '../schema.js';
import { newId, notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof artifacts.$inferSelect;

function toRecord(row: Row): ArtifactRecord {
  return {
    id: row.id,
    path: row.path,
    kind: artifactKindColumn.decode(row.kind, { table: 'artifacts', column: 'kind', rowId: row.id }),
    sha256: row.sha256,
    bytes: row.bytes,
    ownerId: row.ownerId,
    createdAt: row.createdAt,
  };
}

/** Files the lab produced, by path, kind and content hash (see `sha256File`). */
export class ArtifactRepository {
  constructor(private readonly db: StoreDatabase) {}

  record(input: {
    id?: string;
    path: string;
    kind: ArtifactKind;
    sha256: string;
    bytes: number;
    ownerId?: string | null;
  }): ArtifactRecord {
    if (!artifactKindColumn.has(input.kind)) {
      throw new ValidationError({ field: 'kind', message: `unknown artifact kind ${String(input.kind)}` });
    }
    if (!/^[0-9a-f]{64}$/.test(input.sha256)) {
      throw new ValidationError({ field: 'sha256', message: 'expected 64 lowercase hex characters' });
    }
    const row = write('artifacts', () =>
      this.db
        .insert(artifacts)
        .values({
          id: input.id ?? newId('artifact'),
          path: input.path,
          kind: input.kind,
          sha256: input.sha256,
          bytes: input.bytes,
          ownerId: input.ownerId ?? null,
          createdAt: Date.now(),
        })
        .returning()
        .get(),
    );
    return toRecord(row);
  }

  get(id: string): ArtifactRecord | undefined {
    const row = this.db.select().from(artifacts).where(eq(artifacts.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): ArtifactRecord {
    const found = this.get(id);
    if (!found) throw notFound('artifacts', id);
    return found;
  }

  list(filter: { kind?: ArtifactKind; ownerId?: string } = {}): ArtifactRecord[] {
    const conditions: SQL[] = [];
    if (filter.kind !== undefined) conditions.push(eq(artifacts.kind, filter.kind));
    if (filter.ownerId !== undefined) conditions.push(eq(artifacts.ownerId, filter.ownerId));
    return this.db
      .select()
      .from(artifacts)
      .where(and(...conditions))
      .orderBy(asc(artifacts.createdAt), asc(artifacts.id))
      .all()
      .map(toRecord);
  }
}
