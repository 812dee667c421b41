import { type BenchmarkGroup, ValidationError } from '@xfer/core';
import { asc, eq } from 'drizzle-orm';
import { type BenchmarkRecord, benchmarkGroupColumn } from '../records.js';
import { benchmarks } from '../schema.js';
import { notFound, type StoreDatabase, write } from './shared.js';

type Row = typeof benchmarks.$inferSelect;

function toRecord(row: Row): BenchmarkRecord {
  return {
    id: row.id,
    version: row.version,
    group: benchmarkGroupColumn.decode(row.group, { table: 'benchmarks', column: 'group', rowId: row.id }),
    itemsHash: row.itemsHash,
    itemCount: row.itemCount,
    source: row.source,
    createdAt: row.createdAt,
  };
}

/** Input of {@link BenchmarkRepository.register}. */
export interface RegisterBenchmarkInput {
  id: string;
  version: string;
  group: BenchmarkGroup;
  /** sha256 over the canonical JSON of the items, as evaluated. */
  itemsHash: string;
  itemCount: number;
  /** Where the items came from (a path, a hub dataset id, `nano-suite`). */
  source?: string;
}

/** Benchmarks as evaluated: version, group, and a content hash of their items. */
export class BenchmarkRepository {
  constructor(private readonly db: StoreDatabase) {}

  /**
   * Record a benchmark, or update it when its version or items changed. `changed` tells whether the stored
   * content hash moved (runs against the old items no longer compare with new ones).
   */
  register(input: RegisterBenchmarkInput): { benchmark: BenchmarkRecord; changed: boolean } {
    if (!benchmarkGroupColumn.has(input.group)) {
      throw new ValidationError({
        field: 'group',
        message: `unknown benchmark group ${String(input.group)}`,
      });
    }
    const before = this.get(input.id);
    const row = write('benchmarks', () =>
      this.db
        .insert(benchmarks)
        .values({ ...input, source: input.source ?? '', createdAt: Date.now() })
        .onConflictDoUpdate({
          target: benchmarks.id,
          set: {
            version: input.version,
            group: input.group,
            itemsHash: input.itemsHash,
            itemCount: input.itemCount,
            source: input.source ?? '',
          },
        })
        .returning()
        .get(),
    );
    return {
      benchmark: toRecord(row),
      changed: before !== undefined && before.itemsHash !== input.itemsHash,
    };
  }

  get(id: string): BenchmarkRecord | undefined {
    const row = this.db.select().from(benchmarks).where(eq(benchmarks.id, id)).get();
    return row && toRecord(row);
  }

  require(id: string): BenchmarkRecord {
    const found = this.get(id);
    if (!found) throw notFound('benchmarks', id);
    return found;
  }

  list(): BenchmarkRecord[] {
    return this.db.select().from(benchmarks).orderBy(asc(benchmarks.id)).all().map(toRecord);
  }
}
