import { ValidationError } from '@xfer/core';
import type Database from 'better-sqlite3';
import {
  finishReasonColumn,
  JsonObjectSchema,
  type SampleInput,
  type StoredSample,
  type Verdict,
  type VerdictInput,
} from '../records.js';
import { decodeJson, decodeString, type RowLocation } from '../row.js';
import { write } from './shared.js';

/** What {@link SampleRepository.insertSamples} did, by request hash, in input order. */
export interface InsertSamplesResult {
  /** Hashes stored by this call. */
  inserted: string[];
  /** Hashes that were already stored (by an earlier batch, a killed run, or another process). */
  existing: string[];
}

/** A verdict to attach to an already stored sample, found by its request hash. */
export interface VerdictForHash {
  requestHash: string;
  verdict: VerdictInput;
}

const HASH = /^[0-9a-f]{64}$/;

interface SampleRow {
  id: number;
  request_hash: string;
  run_id: string;
  benchmark: string;
  item_id: string;
  sample_index: number;
  seed: number;
  prompt: string;
  completion: string;
  finish_reason: string;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: number;
  created_at: number;
}

interface VerdictRow {
  id: number;
  sample_id: number;
  grader: string;
  grader_version: string;
  extracted: string | null;
  correct: number;
  score: number;
  details_json: string;
}

const sampleColumns =
  's.id, s.request_hash, s.run_id, s.benchmark, s.item_id, s.sample_index, s.seed, s.prompt, s.completion, ' +
  's.finish_reason, s.prompt_tokens, s.completion_tokens, s.latency_ms, s.created_at';
const verdictColumns =
  'v.id, v.sample_id, v.grader, v.grader_version, v.extracted, v.correct, v.score, v.details_json';

function checkSample(sample: SampleInput, index: number): void {
  let field: string | undefined;
  let message = '';
  if (typeof sample.requestHash !== 'string' || !HASH.test(sample.requestHash)) {
    field = 'requestHash';
    message = 'expected 64 lowercase hex characters (sha256)';
  } else if (!finishReasonColumn.has(sample.finishReason)) {
    field = 'finishReason';
    message = `unknown value ${String(sample.finishReason)}`;
  } else if (!Number.isInteger(sample.sampleIndex) || sample.sampleIndex < 0) {
    field = 'sampleIndex';
    message = 'expected an integer >= 0';
  } else if (!Number.isFinite(sample.latencyMs)) {
    field = 'latencyMs';
    message = 'expected a finite number';
  }
  if (field !== undefined) throw new ValidationError({ field: `samples[${index}].${field}`, message });
}

function verdictField(sample: number, position: number): string {
  return sample < 0 ? `verdicts[${position}]` : `samples[${sample}].verdicts[${position}]`;
}

/** `sample` < 0 for verdicts not inside a sample batch (`recordVerdicts`). */
function checkVerdict(verdict: VerdictInput, sample: number, position: number): void {
  if (!(verdict.score >= 0 && verdict.score <= 1)) {
    throw new ValidationError({
      field: `${verdictField(sample, position)}.score`,
      message: `expected a score in [0, 1], got ${verdict.score}`,
    });
  }
  if (!verdict.grader || !verdict.graderVersion) {
    throw new ValidationError({
      field: `${verdictField(sample, position)}.grader`,
      message: 'grader and graderVersion must be non-empty',
    });
  }
}

function detailsText(details: VerdictInput['details']): string {
  return details === undefined ? '{}' : JSON.stringify(details);
}

/**
 * Every sample, keyed by request hash, and its verdicts. The evaluation runner writes each batch as soon as
 * it returns (`insertSamples`, idempotent), looks up what is already computed (`findSamplesByHashes`) and
 * reads a run back for scoring and aggregation (`listRunSamples`). Hot paths use prepared statements
 * directly; every row read is validated (enum and JSON columns) and a bad one is a `CorruptRowError`.
 */
export class SampleRepository {
  private readonly insertSample: Database.Statement;
  private readonly selectIdByHash: Database.Statement;
  private readonly selectOwnerByHash: Database.Statement;
  private readonly selectLinkedSamples: Database.Statement;
  private readonly selectLinkedVerdicts: Database.Statement;
  private readonly linkRun: Database.Statement;
  private readonly insertVerdict: Database.Statement;
  private readonly insertVerdictByHash: Database.Statement;
  private readonly linkRunByHash: Database.Statement;
  private readonly selectRunSamples: Database.Statement;
  private readonly selectRunVerdicts: Database.Statement;
  private readonly selectByHashes: Database.Statement;
  private readonly selectVerdictsByHashes: Database.Statement;
  private readonly countRun: Database.Statement;

  constructor(private readonly sqlite: Database.Database) {
    this.insertSample = sqlite.prepare(
      'INSERT OR IGNORE INTO samples (request_hash, run_id, benchmark, item_id, sample_index, seed, prompt, completion, ' +
        'finish_reason, prompt_tokens, completion_tokens, latency_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    this.selectIdByHash = sqlite.prepare('SELECT id FROM samples WHERE request_hash = ?').pluck();
    this.selectOwnerByHash = sqlite.prepare('SELECT id, run_id FROM samples WHERE request_hash = ?');
    this.linkRun = sqlite.prepare('INSERT OR IGNORE INTO run_samples (run_id, sample_id) VALUES (?, ?)');
    this.insertVerdict = sqlite.prepare(
      'INSERT OR IGNORE INTO verdicts (sample_id, grader, grader_version, extracted, correct, score, details_json, created_at) ' +
        'VALUES (?,?,?,?,?,?,?,?)',
    );
    this.insertVerdictByHash = sqlite.prepare(
      'INSERT OR IGNORE INTO verdicts (sample_id, grader, grader_version, extracted, correct, score, details_json, created_at) ' +
        'SELECT id, ?, ?, ?, ?, ?, ?, ? FROM samples WHERE request_hash = ?',
    );
    this.linkRunByHash = sqlite.prepare(
      'INSERT OR IGNORE INTO run_samples (run_id, sample_id) ' +
        'SELECT @runId, id FROM samples WHERE request_hash = @hash AND run_id <> @runId',
    );
    // A run's samples: those it computed (samples.run_id) plus those it reuses (run_samples).
    this.selectRunSamples = sqlite.prepare(
      `SELECT ${sampleColumns} FROM samples s WHERE s.run_id = ? ORDER BY s.id`,
    );
    this.selectRunVerdicts = sqlite.prepare(
      `SELECT ${verdictColumns} FROM samples s JOIN verdicts v ON v.sample_id = s.id WHERE s.run_id = ? ORDER BY s.id`,
    );
    this.selectLinkedSamples = sqlite.prepare(
      `SELECT ${sampleColumns} FROM run_samples rs JOIN samples s ON s.id = rs.sample_id ` +
        'WHERE rs.run_id = @runId AND s.run_id <> @runId ORDER BY s.id',
    );
    this.selectLinkedVerdicts = sqlite.prepare(
      `SELECT ${verdictColumns} FROM run_samples rs JOIN samples s ON s.id = rs.sample_id JOIN verdicts v ON v.sample_id = s.id ` +
        'WHERE rs.run_id = @runId AND s.run_id <> @runId ORDER BY s.id',
    );
    this.selectByHashes = sqlite.prepare(
      `SELECT ${sampleColumns} FROM samples s WHERE s.request_hash IN (SELECT value FROM json_each(?))`,
    );
    this.selectVerdictsByHashes = sqlite.prepare(
      `SELECT ${verdictColumns} FROM samples s JOIN verdicts v ON v.sample_id = s.id ` +
        'WHERE s.request_hash IN (SELECT value FROM json_each(?)) ORDER BY v.sample_id, v.id',
    );
    this.countRun = sqlite
      .prepare(
        'SELECT (SELECT count(*) FROM samples WHERE run_id = @runId) + (SELECT count(*) FROM run_samples rs ' +
          'JOIN samples s ON s.id = rs.sample_id WHERE rs.run_id = @runId AND s.run_id <> @runId)',
      )
      .pluck();
  }

  /**
   * Store a batch of samples (and any verdicts they carry) in one transaction. Idempotent on
   * `requestHash`: a sample already stored is not written again but is linked to the batch's run, and new
   * verdicts for it are added. Safe to repeat after a crash and to run from several processes at once.
   *
   * @throws ValidationError naming `samples[i].field` for a malformed sample; nothing of the batch is stored.
   */
  insertSamples(batch: readonly SampleInput[]): InsertSamplesResult {
    for (let index = 0; index < batch.length; index++) {
      const sample = batch[index]!;
      checkSample(sample, index);
      const verdicts = sample.verdicts;
      if (verdicts) {
        for (let position = 0; position < verdicts.length; position++) {
          checkVerdict(verdicts[position]!, index, position);
        }
      }
    }
    const now = Date.now();
    return write('samples', () => this.insertBatch(batch, now));
  }

  private insertBatch(batch: readonly SampleInput[], now: number): InsertSamplesResult {
    return this.sqlite
      .transaction((): InsertSamplesResult => {
        const inserted: string[] = [];
        const existing: string[] = [];
        for (const sample of batch) {
          const createdAt = sample.createdAt ?? now;
          const result = this.insertSample.run(
            sample.requestHash,
            sample.runId,
            sample.benchmark,
            sample.itemId,
            sample.sampleIndex,
            sample.seed,
            sample.prompt,
            sample.completion,
            sample.finishReason,
            sample.promptTokens,
            sample.completionTokens,
            sample.latencyMs,
            createdAt,
          );
          let id: number;
          if (result.changes === 1) {
            id = Number(result.lastInsertRowid);
            inserted.push(sample.requestHash);
          } else {
            const owner = this.selectOwnerByHash.get(sample.requestHash) as { id: number; run_id: string };
            id = owner.id;
            if (owner.run_id !== sample.runId) this.linkRun.run(sample.runId, id);
            existing.push(sample.requestHash);
          }
          if (sample.verdicts) {
            for (const verdict of sample.verdicts) {
              this.insertVerdict.run(
                id,
                verdict.grader,
                verdict.graderVersion,
                verdict.extracted,
                verdict.correct ? 1 : 0,
                verdict.score,
                detailsText(verdict.details),
                createdAt,
              );
            }
          }
        }
        return { inserted, existing };
      })
      .immediate();
  }

  /**
   * Add verdicts to stored samples (re-scoring with a new grader version). A verdict for the same sample,
   * grader and grader version is kept as first written. Returns how many were added.
   */
  recordVerdicts(verdicts: readonly VerdictForHash[]): number {
    verdicts.forEach((entry, index) => {
      checkVerdict(entry.verdict, -1, index);
    });
    const now = Date.now();
    return this.sqlite
      .transaction(() => {
        let added = 0;
        for (const { requestHash, verdict } of verdicts) {
          added += this.insertVerdictByHash.run(
            verdict.grader,
            verdict.graderVersion,
            verdict.extracted,
            verdict.correct ? 1 : 0,
            verdict.score,
            detailsText(verdict.details),
            now,
            requestHash,
          ).changes;
        }
        return added;
      })
      .immediate();
  }

  /** Make stored samples part of another run (an identical request reused). Returns how many were found. */
  attachSamples(runId: string, requestHashes: readonly string[]): number {
    return this.sqlite
      .transaction(() => {
        let found = 0;
        for (const hash of requestHashes) {
          this.linkRunByHash.run({ runId, hash });
          found += this.selectIdByHash.get(hash) === undefined ? 0 : 1;
        }
        return found;
      })
      .immediate();
  }

  /** The stored samples among `requestHashes`, with their verdicts, keyed by hash (missing ones absent). */
  findSamplesByHashes(requestHashes: readonly string[]): Map<string, StoredSample> {
    const found = new Map<string, StoredSample>();
    if (requestHashes.length === 0) return found;
    const list = JSON.stringify(requestHashes);
    const verdicts = this.groupVerdicts(this.selectVerdictsByHashes.all(list) as VerdictRow[]);
    for (const row of this.selectByHashes.all(list) as SampleRow[]) {
      found.set(row.request_hash, toSample(row, verdicts.get(row.id) ?? []));
    }
    return found;
  }

  /** Every sample of a run (computed by it or reused by it), in insertion order, with its verdicts. */
  listRunSamples(runId: string): StoredSample[] {
    const verdicts = this.groupVerdicts(this.selectRunVerdicts.all(runId) as VerdictRow[]);
    const own = this.selectRunSamples.all(runId) as SampleRow[];
    const linked = this.selectLinkedSamples.all({ runId }) as SampleRow[];
    if (linked.length > 0) {
      for (const row of this.selectLinkedVerdicts.all({ runId }) as VerdictRow[]) addVerdict(verdicts, row);
    }
    const out = new Array<StoredSample>(own.length + linked.length);
    // Merge the two id-ordered lists.
    let ownIndex = 0;
    let linkedIndex = 0;
    for (let index = 0; index < out.length; index++) {
      const next = own[ownIndex];
      const other = linked[linkedIndex];
      const row =
        other === undefined || (next !== undefined && next.id < other.id)
          ? own[ownIndex++]!
          : linked[linkedIndex++]!;
      out[index] = toSample(row, verdicts.get(row.id) ?? []);
    }
    return out;
  }

  /** How many samples a run has. */
  countRunSamples(runId: string): number {
    return this.countRun.get({ runId }) as number;
  }

  private groupVerdicts(rows: VerdictRow[]): Map<number, Verdict[]> {
    const bySample = new Map<number, Verdict[]>();
    for (const row of rows) addVerdict(bySample, row);
    return bySample;
  }
}

function addVerdict(bySample: Map<number, Verdict[]>, row: VerdictRow): void {
  const verdict = toVerdict(row);
  const list = bySample.get(row.sample_id);
  if (list) list.push(verdict);
  else bySample.set(row.sample_id, [verdict]);
}

function sampleLocation(rowId: number, column: string): RowLocation {
  return { table: 'samples', column, rowId };
}

function toSample(row: SampleRow, verdicts: Verdict[]): StoredSample {
  // Checks that allocate nothing on the good path: this runs once per sample of a run.
  return {
    id: row.id,
    requestHash: row.request_hash,
    runId: row.run_id,
    benchmark: row.benchmark,
    itemId: row.item_id,
    sampleIndex: row.sample_index,
    seed: row.seed,
    prompt:
      typeof row.prompt === 'string'
        ? row.prompt
        : decodeString(row.prompt, sampleLocation(row.id, 'prompt')),
    completion:
      typeof row.completion === 'string'
        ? row.completion
        : decodeString(row.completion, sampleLocation(row.id, 'completion')),
    finishReason: finishReasonColumn.has(row.finish_reason)
      ? row.finish_reason
      : finishReasonColumn.decode(row.finish_reason, sampleLocation(row.id, 'finish_reason')),
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    latencyMs: row.latency_ms,
    verdicts,
    createdAt: row.created_at,
  };
}

const emptyDetails = '{}';

function toVerdict(row: VerdictRow): Verdict {
  return {
    grader: row.grader,
    graderVersion: row.grader_version,
    extracted: row.extracted,
    correct: row.correct === 1,
    score: row.score,
    details:
      row.details_json === emptyDetails
        ? {}
        : decodeJson(JsonObjectSchema, row.details_json, {
            table: 'verdicts',
            column: 'details_json',
            rowId: row.id,
          }),
  };
}
