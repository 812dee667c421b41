import { ValidationError } from '@xfer/core';
import type Database from 'better-sqlite3';
import { type JsonObject, JsonObjectSchema, type RunEvent } from '../records.js';
import { decodeJson } from '../row.js';

interface EventRow {
  id: number;
  run_id: string;
  seq: number;
  kind: string;
  payload_json: string;
  created_at: number;
}

function toEvent(row: EventRow): RunEvent {
  return {
    runId: row.run_id,
    seq: row.seq,
    kind: row.kind,
    payload: decodeJson(JsonObjectSchema, row.payload_json, {
      table: 'run_events',
      column: 'payload_json',
      rowId: row.id,
    }),
    createdAt: row.created_at,
  };
}

/**
 * Progress events of runs (evaluation or training), numbered `seq` = 1, 2, ... per run so that a client
 * streaming them (SSE) resumes with `list(runId, { afterSeq })` without gaps or repeats, even when several
 * processes append to the same run.
 */
export class EventRepository {
  private readonly insert: Database.Statement;
  private readonly selectAfter: Database.Statement;

  constructor(private readonly sqlite: Database.Database) {
    this.insert = sqlite.prepare(
      'INSERT INTO run_events (run_id, seq, kind, payload_json, created_at) ' +
        'SELECT @runId, coalesce(max(seq), 0) + 1, @kind, @payload, @now FROM run_events WHERE run_id = @runId RETURNING *',
    );
    this.selectAfter = sqlite.prepare(
      'SELECT * FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
  }

  /** Append one event; returns it with its `seq`. */
  append(runId: string, kind: string, payload: JsonObject = {}): RunEvent {
    return this.appendMany(runId, [{ kind, payload }])[0]!;
  }

  /** Append events in order, in one transaction. */
  appendMany(runId: string, events: readonly { kind: string; payload?: JsonObject }[]): RunEvent[] {
    events.forEach((event, index) => {
      if (typeof event.kind !== 'string' || event.kind === '') {
        throw new ValidationError({ field: `events[${index}].kind`, message: 'expected a non-empty kind' });
      }
    });
    const now = Date.now();
    return this.sqlite
      .transaction(() =>
        events.map((event) =>
          toEvent(
            this.insert.get({
              runId,
              kind: event.kind,
              payload: JSON.stringify(event.payload ?? {}),
              now,
            }) as EventRow,
          ),
        ),
      )
      .immediate();
  }

  /** Events of a run with `seq > afterSeq` (default 0), oldest first, at most `limit` (default all). */
  list(runId: string, options: { afterSeq?: number; limit?: number } = {}): RunEvent[] {
    return (this.selectAfter.all(runId, options.afterSeq ?? 0, options.limit ?? -1) as EventRow[]).map(
      toEvent,
    );
  }
}
