/**
 * `pnpm bench:store`: the experiment store's hot paths against raw better-sqlite3.
 *
 * 1. insert 100,000 samples (one verdict each) through `store.samples.insertSamples`, and the same data with
 *    raw prepared statements in one transaction (same SQL work: a sample row and a verdict row each);
 * 2. read one run's 100,000 samples back with their verdicts through `store.samples.listRunSamples` (validated
 *    typed objects), and with one raw prepared `LEFT JOIN` query (plain rows).
 *
 * Each side writes a fresh database file; after one uncounted warm-up round per side, each measurement is the
 * median of `repeats` rounds (second argument, default 3) that alternate which side goes first.
 * Prints samples/s (wall) and samples per CPU-second for both sides, then the CPU-time ratios, and last
 * `insert_ratio=… read_ratio=…` (repository wall time / raw wall time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@xfer/core';
import { openStore, requestHash, type SampleInput, type Store } from '@xfer/store';
import Database from 'better-sqlite3';

/** `pnpm bench:store [samples] [repeats]` (defaults 100,000 and 3). */
const count = Number(process.argv[2] ?? 100_000);
const repeats = Number(process.argv[3] ?? 3);
const runId = 'bench-run';

/** The data is the same on every run: a seeded generator (mulberry32, from core). */
const random = mulberry32;

function makeSamples(n: number): SampleInput[] {
  const next = random(42);
  const words = [
    'the',
    'answer',
    'is',
    'so',
    'we',
    'compute',
    'sum',
    'of',
    'x',
    'therefore',
    'boxed',
    'step',
  ];
  const text = (length: number) => {
    let out = '';
    while (out.length < length) out += `${words[Math.floor(next() * words.length)]} `;
    return out;
  };
  const samples: SampleInput[] = [];
  for (let index = 0; index < n; index++) {
    const itemId = `item-${Math.floor(index / 4)}`;
    const sampleIndex = index % 4;
    const correct = next() < 0.5;
    samples.push({
      requestHash: requestHash({ model: 'nano-base', itemId, sampleIndex, seed: 7, scorer: 'math@1' }),
      runId,
      benchmark: 'math500',
      itemId,
      sampleIndex,
      seed: 7,
      prompt: text(200),
      completion: text(400),
      finishReason: next() < 0.9 ? 'stop' : 'length',
      promptTokens: 50 + Math.floor(next() * 50),
      completionTokens: 100 + Math.floor(next() * 200),
      latencyMs: next() * 1000,
      createdAt: 1_700_000_000_000 + index,
      verdicts: [
        {
          grader: 'math-verify',
          graderVersion: '1',
          extracted: String(Math.floor(next() * 100)),
          correct,
          score: correct ? 1 : 0,
          details: index % 10 === 0 ? { method: 'sympy' } : {},
        },
      ],
    });
  }
  return samples;
}

function seedRun(store: Store): void {
  const model = store.models.create({
    id: 'bench-model',
    name: 'nano-base',
    ref: { kind: 'nano', name: 'nano-base' },
    method: 'base',
  });
  store.evalRuns.create({
    id: runId,
    modelId: model.id,
    settings: { benchmarks: ['math500'] },
    modelHash: 'm',
    chatTemplateHash: 't',
    samplingHash: 's',
    scorerVersions: { 'math-verify': '1' },
  });
}

function rawInsert(sqlite: Database.Database, samples: SampleInput[]): void {
  const insertSample = sqlite.prepare(
    'INSERT OR IGNORE INTO samples (request_hash, run_id, benchmark, item_id, sample_index, seed, prompt, completion, ' +
      'finish_reason, prompt_tokens, completion_tokens, latency_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const insertVerdict = sqlite.prepare(
    'INSERT OR IGNORE INTO verdicts (sample_id, grader, grader_version, extracted, correct, score, details_json, created_at) ' +
      'VALUES (?,?,?,?,?,?,?,?)',
  );
  sqlite.transaction(() => {
    for (const s of samples) {
      const id = insertSample.run(
        s.requestHash,
        s.runId,
        s.benchmark,
        s.itemId,
        s.sampleIndex,
        s.seed,
        s.prompt,
        s.completion,
        s.finishReason,
        s.promptTokens,
        s.completionTokens,
        s.latencyMs,
        s.createdAt,
      ).lastInsertRowid;
      for (const v of s.verdicts ?? []) {
        insertVerdict.run(
          id,
          v.grader,
          v.graderVersion,
          v.extracted,
          v.correct ? 1 : 0,
          v.score,
          JSON.stringify(v.details ?? {}),
          s.createdAt,
        );
      }
    }
  })();
}

function rawRead(sqlite: Database.Database): number {
  const rows = sqlite
    .prepare(
      'SELECT s.*, v.grader, v.grader_version, v.extracted, v.correct, v.score, v.details_json FROM samples s ' +
        'LEFT JOIN verdicts v ON v.sample_id = s.id WHERE s.run_id = ? ORDER BY s.id',
    )
    .all(runId);
  return rows.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

type Measure = 'repoInsert' | 'rawInsert' | 'repoRead' | 'rawRead' | 'batchedInsert';
const wall: Record<Measure, number[]> = {
  repoInsert: [],
  rawInsert: [],
  repoRead: [],
  rawRead: [],
  batchedInsert: [],
};
const cpu: Record<Measure, number[]> = {
  repoInsert: [],
  rawInsert: [],
  repoRead: [],
  rawRead: [],
  batchedInsert: [],
};

/** Wall and CPU (user + system) seconds of `action`; CPU time is steadier on a shared machine. */
function measure(name: Measure, action: () => void): void {
  const startCpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  action();
  wall[name].push(Number(process.hrtime.bigint() - start) / 1e9);
  const used = process.cpuUsage(startCpu);
  cpu[name].push((used.user + used.system) / 1e6);
}

const samples = makeSamples(count);
const directory = mkdtempSync(join(tmpdir(), 'xfer-bench-store-'));
try {
  const repositorySide = (round: number) => {
    const repo = openStore(join(directory, `repo-${round}.db`));
    seedRun(repo);
    measure('repoInsert', () => repo.samples.insertSamples(samples));
    let read = 0;
    measure('repoRead', () => {
      read = repo.samples.listRunSamples(runId).length;
    });
    if (read !== count) throw new Error(`repository read ${read} samples, expected ${count}`);
    repo.close();
  };
  const rawSide = (round: number) => {
    // Same schema (migrated by openStore, then closed) and connection settings; plain prepared statements.
    const rawPath = join(directory, `raw-${round}.db`);
    const setup = openStore(rawPath);
    seedRun(setup);
    setup.close();
    const sqlite = new Database(rawPath);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('cache_size = -65536');
    measure('rawInsert', () => rawInsert(sqlite, samples));
    let rawCount = 0;
    measure('rawRead', () => {
      rawCount = rawRead(sqlite);
    });
    if (rawCount !== count) throw new Error(`raw read ${rawCount} rows, expected ${count}`);
    sqlite.close();
  };
  // A warm-up round of each side (not counted), then rounds alternating which side goes first.
  repositorySide(-1);
  rawSide(-1);
  for (const list of [wall, cpu]) for (const name of Object.keys(list) as Measure[]) list[name] = [];
  for (let round = 0; round < repeats; round++) {
    if (round % 2 === 0) {
      repositorySide(round);
      rawSide(round);
    } else {
      rawSide(round);
      repositorySide(round);
    }
  }
  // The runner's shape: batches of 1,000, each its own transaction.
  const batched = openStore(join(directory, 'batched.db'));
  seedRun(batched);
  measure('batchedInsert', () => {
    for (let start = 0; start < count; start += 1000)
      batched.samples.insertSamples(samples.slice(start, start + 1000));
  });
  batched.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const rate = (seconds: number) => Math.round(count / seconds);
const wallOf = (name: Measure) => median(wall[name]);
const cpuOf = (name: Measure) => median(cpu[name]);
const row = (label: string, name: Measure) =>
  `${label}_samples_per_s=${rate(wallOf(name))} ${label}_samples_per_cpu_s=${rate(cpuOf(name))}`;
process.stdout.write(
  [
    `samples=${count} repeats=${repeats} (median of each)`,
    row('repository_insert', 'repoInsert'),
    row('raw_insert', 'rawInsert'),
    row('repository_insert_batches_of_1000', 'batchedInsert'),
    row('repository_read', 'repoRead'),
    row('raw_read', 'rawRead'),
    `cpu_insert_ratio=${(cpuOf('repoInsert') / cpuOf('rawInsert')).toFixed(2)} cpu_read_ratio=${(cpuOf('repoRead') / cpuOf('rawRead')).toFixed(2)}`,
    `insert_ratio=${(wallOf('repoInsert') / wallOf('rawInsert')).toFixed(2)} read_ratio=${(wallOf('repoRead') / wallOf('rawRead')).toFixed(2)}`,
  ].join('\n') + '\n',
);
