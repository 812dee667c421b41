import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EngineError, generateAll, ValidationError, WorkerError, XferError } from '@xfer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEnv, writeNanoCheckpoint } from '../test/fixtures.js';
import { createTorchEngine, createTorchTrainer, torchEngineFactory } from './torch-engine.js';
import { TorchWorker, type WorkerLogEntry } from './torch-worker.js';

let checkpoint: Awaited<ReturnType<typeof writeNanoCheckpoint>>;
beforeAll(async () => {
  checkpoint = await writeNanoCheckpoint();
});
afterAll(async () => {
  await checkpoint.cleanup();
});

const longGenerate = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `g${i}`,
    prompt: 'Once',
    sampling: { maxTokens: 200, temperature: 1, seed: i, topP: 1, topK: -1, stop: [], logprobs: false },
  }));

describe('TorchWorker (real python -m xfer_worker)', () => {
  it('handshakes with capabilities and answers typed requests', async () => {
    const worker = await TorchWorker.start({ env: workerEnv });
    try {
      expect(worker.ready.protocolVersion).toBe(1);
      expect(worker.ready.capabilities).toEqual(
        expect.arrayContaining(['generate', 'score', 'hidden', 'train']),
      );
      expect(worker.ready.pid).toBe(worker.pid);
      const init = await worker.request('init', { model: { kind: 'nano', path: checkpoint.directory } });
      expect(init.info).toMatchObject({ engine: 'torch', vocabSize: 264, numLayers: 2, hiddenSize: 48 });
      const progress: number[] = [];
      const { results } = await worker.request(
        'generate',
        { requests: [{ id: 'a', prompt: 'hi', sampling: { maxTokens: 5 } }] },
        { onProgress: (p) => progress.push(p.tokens) },
      );
      expect(results[0]).toMatchObject({ id: 'a', completionTokens: 5, finishReason: 'length' });
      expect(progress.at(-1)).toBe(5);
    } finally {
      await worker.close();
    }
    expect(worker.running).toBe(false);
  });

  it('rejects bad params locally and maps worker errors to the typed error family', async () => {
    const worker = await TorchWorker.start({ env: workerEnv });
    try {
      await expect(worker.request('optimizer-step', { learningRate: -1 })).rejects.toSatisfy(
        (error) => ValidationError.isInstance(error) && error.field === 'params.learningRate',
      );
      const early = await worker.request('tokenize', { texts: ['x'] }).catch((error: unknown) => error);
      expect(ValidationError.isInstance(early) && early.message).toMatch(/send an init frame first/);
      const missing = await worker
        .request('init', { model: { kind: 'nano', path: '/does/not/exist' } })
        .catch((error: unknown) => error);
      expect(ValidationError.isInstance(missing) && missing.code).toBe('CHECKPOINT_INVALID');
      await worker.request('init', { model: { kind: 'nano', path: checkpoint.directory } });
      const untrained = await worker
        .request('optimizer-step', { learningRate: 0.1 })
        .catch((error: unknown) => error);
      expect(EngineError.isInstance(untrained) && untrained.code).toBe('ENGINE_UNSUPPORTED');
      expect((await worker.request('tokenize', { texts: ['ok'] })).tokenIds).toEqual([[111, 107]]);
    } finally {
      await worker.close();
    }
  });

  it('a worker killed mid-request rejects every pending request with a crash error carrying stderr', async () => {
    const worker = await TorchWorker.start({ env: { ...workerEnv, XFER_WORKER_FAULTS: 'slow' } });
    await worker.request('init', { model: { kind: 'nano', path: checkpoint.directory } });
    let killed = false;
    const first = worker.request(
      'generate',
      { requests: longGenerate(4) },
      {
        onProgress: () => {
          if (!killed) {
            killed = true;
            process.kill(worker.pid, 'SIGKILL');
          }
        },
      },
    );
    const second = worker.request('score', { requests: [{ id: 's', context: 'a', continuation: 'b' }] });
    const [a, b] = await Promise.allSettled([first, second]);
    for (const outcome of [a, b]) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(WorkerError.isInstance(error) && error.reason).toBe('crash');
      expect(error.message).toMatch(/signal SIGKILL/);
    }
    expect(worker.pendingCount).toBe(0);
    await expect(worker.request('tokenize', { texts: ['x'] })).rejects.toSatisfy(
      (error) => WorkerError.isInstance(error) && error.reason === 'crash',
    );
  });

  it('a worker that dies on a request reports the tail of its stderr', async () => {
    const worker = await TorchWorker.start({ env: { ...workerEnv, XFER_WORKER_FAULTS: 'crash-on-score' } });
    await worker.request('init', { model: { kind: 'nano', path: checkpoint.directory } });
    const error = await worker
      .request('score', { requests: [{ id: 's', context: 'a', continuation: 'b' }] })
      .catch((e: unknown) => e);
    expect(WorkerError.isInstance(error)).toBe(true);
    expect((error as WorkerError).reason).toBe('crash');
    expect((error as WorkerError).stderrTail).toMatch(/fault injection: crashing on score/);
    expect((error as WorkerError).data).toMatchObject({ exitCode: 3 });
  });

  it('garbage on stdout is reported through onLog and is not fatal', async () => {
    const logs: WorkerLogEntry[] = [];
    const worker = await TorchWorker.start({
      env: { ...workerEnv, XFER_WORKER_FAULTS: 'garbage,print' },
      onLog: (entry) => logs.push(entry),
    });
    try {
      await worker.request('init', { model: { kind: 'nano', path: checkpoint.directory } });
      expect((await worker.request('tokenize', { texts: ['ab'] })).tokenIds).toEqual([[97, 98]]);
      expect((await worker.request('detokenize', { tokenIds: [[97, 98]] })).texts).toEqual(['ab']);
      const stdout = logs.filter((entry) => entry.source === 'stdout').map((entry) => entry.message);
      expect(stdout.filter((m) => m.includes('non-JSON line')).length).toBeGreaterThanOrEqual(3);
      expect(stdout.filter((m) => m.includes('not a protocol frame')).length).toBeGreaterThanOrEqual(3);
      // the stray print() went to stderr through the fd-level divert, not to the frame channel
      expect(stdout.some((m) => m.includes('stray'))).toBe(false);
      expect(worker.stderrTail).toMatch(/stray print\(\)/);
    } finally {
      await worker.close();
    }
  });

  it('cancels through an AbortSignal and times out requests, and the worker stays usable', async () => {
    const engine = await createTorchEngine({
      model: { kind: 'nano', path: checkpoint.directory },
      env: { ...workerEnv, XFER_WORKER_FAULTS: 'slow' },
    });
    try {
      const controller = new AbortController();
      const results = [];
      let started = false;
      for await (const result of engine.generate(longGenerate(6), {
        signal: controller.signal,
        onProgress: () => {
          if (!started) {
            started = true;
            controller.abort();
          }
        },
      })) {
        results.push(result);
      }
      expect(results.map((r) => r.finishReason)).toEqual(Array(6).fill('cancelled'));
      const timedOut = await engine.worker
        .request('generate', { requests: longGenerate(6) }, { timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(WorkerError.isInstance(timedOut) && timedOut.reason).toBe('timeout');
      // the cancel frame reached the worker: the next request is answered promptly
      const began = Date.now();
      const [score] = await engine.score([
        { id: 's', context: 'a', continuation: 'bc', fullDistribution: false },
      ]);
      expect(score!.logprobs).toHaveLength(2);
      expect(Date.now() - began).toBeLessThan(20_000);
      const aborted = new AbortController();
      aborted.abort();
      await expect(
        engine.score([{ id: 's', context: 'a', continuation: 'b', fullDistribution: false }], {
          signal: aborted.signal,
        }),
      ).rejects.toSatisfy((e) => XferError.hasCode(e, 'CANCELLED'));
    } finally {
      await engine.close();
    }
  });

  it('fails fast with typed errors when the worker cannot start or never becomes ready', async () => {
    await expect(TorchWorker.start({ python: '/nonexistent/python3' })).rejects.toSatisfy(
      (e) => WorkerError.isInstance(e) && e.reason === 'spawn',
    );
    const directory = await mkdtemp(path.join(tmpdir(), 'xfer-silent-'));
    const silent = path.join(directory, 'silent-python');
    await writeFile(silent, '#!/bin/sh\necho "booting slowly" >&2\nexec sleep 30\n');
    await chmod(silent, 0o755);
    try {
      const error = await TorchWorker.start({ python: silent, readyTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(WorkerError.isInstance(error) && error.reason).toBe('timeout');
      expect((error as WorkerError).stderrTail).toMatch(/booting slowly/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('serves the engine interface: generateAll, score and hidden states read from scratch files', async () => {
    const engine = await torchEngineFactory({ env: workerEnv })({ kind: 'nano', path: checkpoint.directory });
    try {
      const info = await engine.info();
      expect(info.capabilities).not.toContain('train');
      const results = await generateAll(engine, [
        {
          id: 'x',
          prompt: 'abc',
          sampling: { maxTokens: 4, temperature: 0.8, seed: 1, logprobs: true, topP: 1, topK: -1, stop: [] },
        },
        {
          id: 'y',
          prompt: '',
          sampling: { maxTokens: 3, temperature: 0, seed: 0, logprobs: false, topP: 1, topK: -1, stop: [] },
        },
      ]);
      expect(results.map((r) => r.id)).toEqual(['x', 'y']);
      expect(results[0]!.logprobs).toHaveLength(results[0]!.completionTokens);
      expect(results[1]!.promptTokens).toBe(1);
      const hidden = await engine.hidden({
        id: 'h',
        texts: ['one', 'three'],
        maxLength: 16,
        pooling: 'mean',
        batchSize: 2,
      });
      expect(hidden.layers).toHaveLength(3);
      expect(hidden.layers[0]).toBeInstanceOf(Float32Array);
      expect(hidden.layers[0]!.length).toBe(2 * 48);
      expect(hidden.tokenCounts).toEqual([3, 5]);
      expect(hidden.layers.every((layer) => layer.every(Number.isFinite))).toBe(true);
    } finally {
      await engine.close();
    }
  });
  it('scores with the exact KL against the snapshotted reference, which grows after a training step', async () => {
    const trainer = await createTorchTrainer({
      model: { kind: 'nano', path: checkpoint.directory },
      env: workerEnv,
    });
    try {
      const request = { id: 'k', context: 'abc', continuation: 'defgh', fullDistribution: false };
      await expect(trainer.policy.scoreWithKl([request])).rejects.toSatisfy(
        (e) => ValidationError.isInstance(e) && e.field === 'model',
      );
      await trainer.snapshotReference();
      const [before] = await trainer.policy.scoreWithKl([request]);
      expect(Math.max(...before!.kl.map(Math.abs))).toBeLessThan(1e-6);
      const tokens = await trainer.tokenize(['abcdefgh']);
      await trainer.forwardBackward(
        [{ promptTokenIds: tokens[0]!.slice(0, 3), completionTokenIds: tokens[0]!.slice(3) }],
        {
          clip: null,
          klBeta: 0,
          aggregation: 'token-mean',
        },
      );
      await trainer.optimizerStep({ learningRate: 0.05 });
      const [after] = await trainer.policy.scoreWithKl([request]);
      expect(after!.kl.every((value) => value > 0)).toBe(true);
      expect(after!.logprobs.reduce((a, b) => a + b)).toBeGreaterThan(
        before!.logprobs.reduce((a, b) => a + b),
      );
    } finally {
      await trainer.close();
    }
  });
  it('shuts down by stdin EOF, and escalates to SIGTERM then SIGKILL for a worker that does not leave', async () => {
    const polite = await TorchWorker.start({ env: workerEnv });
    await polite.close();
    expect(polite.exitStatus).toEqual({ code: 0, signal: null });

    const directory = await mkdtemp(path.join(tmpdir(), 'xfer-stubborn-'));
    const stubborn = path.join(directory, 'stubborn-python');
    const ready =
      '{"v":1,"id":"ready","type":"ready","protocolVersion":1,"capabilities":[],"device":"cpu","pid":1,"versions":{}}';
    await writeFile(stubborn, `#!/bin/sh\ntrap '' TERM\necho '${ready}'\nwhile true; do sleep 0.2; done\n`);
    await chmod(stubborn, 0o755);
    try {
      const worker = await TorchWorker.start({
        python: stubborn,
        shutdownGraceMs: 300,
        terminateGraceMs: 300,
      });
      const began = Date.now();
      await worker.close();
      expect(Date.now() - began).toBeGreaterThanOrEqual(550);
      expect(worker.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
