import { GenerateRequestSchema, PolicyLossSchema, type TrainSequence } from '@xfer/core';
import { afterAll, describe, expect, it } from 'vitest';
import { NanoEngine } from './engine.js';
import { jsMatmul } from './kernels/matmul.js';
import { cloneModel, createNanoModel } from './model.js';
import { policyLoss } from './policy-loss.js';
import { addGradients, Replica, setReplicaEnabled, sharedReplica, splitPoint } from './replica.js';
import { tinyNanoConfig } from './testing.js';
import { NanoTrainer } from './trainer.js';
import { zeroGradients } from './transformer.js';

// the replica runs whenever engine-nano computes with two threads; these tests need it on any machine
process.env.XFER_NANO_THREADS = '2';

const config = tinyNanoConfig(64);

/** Sequences of different lengths, so the two shards differ in size and the split point matters. */
function batch(count: number, seed: number): TrainSequence[] {
  return Array.from({ length: count }, (_, s) => {
    const promptLength = 1 + ((s * 7 + seed) % 9);
    const completionLength = 1 + ((s * 5 + seed * 3) % 11);
    return {
      promptTokenIds: Array.from({ length: promptLength }, (_, i) => (s * 31 + i * 17 + seed) % 256),
      completionTokenIds: Array.from({ length: completionLength }, (_, i) => (s * 13 + i * 29 + seed) % 256),
      weights: Array.from({ length: completionLength }, (_, i) => 0.5 + ((i + s) % 3) * 0.25),
      oldLogprobs: Array.from({ length: completionLength }, (_, i) => -5.5 + ((i * s) % 5) * 0.1),
      refLogprobs: Array.from({ length: completionLength }, (_, i) => -5.4 - ((i + s) % 4) * 0.1),
    };
  });
}

const bytes = (data: Float32Array | Float64Array) =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength);

afterAll(() => {
  setReplicaEnabled(true);
});

describe('splitPoint', () => {
  it('cuts where the two halves cost closest to the same, the earlier cut on a tie', () => {
    expect(splitPoint([])).toBe(0);
    expect(splitPoint([5])).toBe(1);
    expect(splitPoint([1, 1])).toBe(1);
    expect(splitPoint([10, 1, 1, 1])).toBe(1);
    expect(splitPoint([1, 1, 1, 10])).toBe(3);
    expect(splitPoint([2, 2, 2, 2])).toBe(2);
    expect(splitPoint([3, 1, 1, 3])).toBe(2);
    expect(splitPoint([1, 2, 1])).toBe(1);
  });
});

describe('policyLoss over two shards', () => {
  const losses = [
    {},
    { clip: { low: 0.2, high: 0.28 }, klBeta: 0.3, aggregation: 'sequence-mean' },
    { klBeta: 1, aggregation: 'token-sum', sumDivisor: 7 },
  ] as const;
  for (const input of losses) {
    it(`adds up to the whole batch's loss and gradients (${(input as { aggregation?: string }).aggregation ?? 'token-mean'})`, () => {
      const model = createNanoModel(config, 3, { dtype: 'float64' });
      const loss = PolicyLossSchema.parse(input);
      const sequences = batch(7, 2);
      const whole = zeroGradients(model);
      const expected = policyLoss(model, jsMatmul, sequences, loss, { gradients: whole });
      const cut = splitPoint(sequences.map((s) => s.promptTokenIds.length + s.completionTokenIds.length));
      const share = (firstIndex: number) => ({
        tokens: sequences.reduce((sum, s) => sum + s.completionTokenIds.length, 0),
        sequences: sequences.length,
        firstIndex,
      });
      const first = zeroGradients(model);
      const second = zeroGradients(model);
      const a = policyLoss(model, jsMatmul, sequences.slice(0, cut), loss, {
        gradients: first,
        batch: share(0),
      });
      const b = policyLoss(model, jsMatmul, sequences.slice(cut), loss, {
        gradients: second,
        batch: share(cut),
      });
      addGradients(first, second);
      expect(a.loss + b.loss).toBeCloseTo(expected.loss, 12);
      expect(a.sums.clipped + b.sums.clipped).toBe(expected.sums.clipped);
      expect([...a.logprobs, ...b.logprobs]).toEqual(expected.logprobs);
      let largest = 0;
      for (const [name, gradient] of whole) {
        const sum = first.get(name)!;
        for (let i = 0; i < gradient.length; i++) {
          largest = Math.max(largest, Math.abs(gradient[i]!));
          expect(Math.abs(sum[i]! - gradient[i]!)).toBeLessThan(1e-12);
        }
      }
      expect(largest).toBeGreaterThan(1e-4);
    });
  }
});

describe('the replica', () => {
  it('trains to the same bits as the calling thread alone, and computes the second shard', async () => {
    const replica = sharedReplica();
    expect(replica).toBeDefined();
    const before = replica!.shardsComputed;
    const run = async (useReplica: boolean) => {
      setReplicaEnabled(useReplica);
      const trainer = new NanoTrainer(createNanoModel(config, 5));
      await trainer.snapshotReference();
      const loss = PolicyLossSchema.parse({ clip: { low: 0.2, high: 0.28 }, klBeta: 0.1 });
      const outcomes = [];
      for (let step = 0; step < 3; step++) {
        const sequences = batch(6, step).map(({ refLogprobs: _, ...rest }) => rest);
        outcomes.push(await trainer.forwardBackward(sequences, loss));
        outcomes.push(await trainer.forwardBackward(batch(3, step + 10), loss, { scale: 0.5 }));
        await trainer.optimizerStep({ learningRate: 1e-2, gradClip: 1 });
      }
      const logprobs = await trainer.logprobs(batch(5, 1), 'policy');
      return { model: trainer.model, outcomes, logprobs };
    };
    const alone = await run(false);
    const shared = await run(true);
    expect(replica!.shardsComputed).toBeGreaterThanOrEqual(before + 10);
    expect(shared.outcomes).toEqual(alone.outcomes);
    expect(shared.logprobs).toEqual(alone.logprobs);
    for (const [name, data] of alone.model.tensors)
      expect(bytes(shared.model.tensors.get(name)!).equals(bytes(data)), name).toBe(true);
  });

  it('scores to the same bits whether or not the replica takes half the requests', async () => {
    const model = createNanoModel(config, 8);
    const requests = Array.from({ length: 9 }, (_, i) => ({
      id: `r${i}`,
      context: 'abcdefghij'.slice(0, 1 + (i % 7)),
      continuation: ' xyz!'.slice(0, 1 + (i % 4)),
      fullDistribution: i === 8,
    }));
    const score = async (useReplica: boolean) => {
      setReplicaEnabled(useReplica);
      return new NanoEngine(cloneModel(model)).score(requests);
    };
    const before = sharedReplica()!.shardsComputed;
    const shared = await score(true);
    expect(sharedReplica()!.shardsComputed).toBe(before + 1);
    expect(shared).toEqual(await score(false));
  });

  it('generates the same texts whether or not the replica decodes half the requests', async () => {
    const model = createNanoModel(config, 9);
    const requests = Array.from({ length: 7 }, (_, i) =>
      GenerateRequestSchema.parse({
        id: `g${i % 6}`,
        prompt: 'hello world'.slice(0, 2 + i),
        sampling: {
          temperature: i % 3 === 0 ? 0 : 1,
          maxTokens: 4 + 3 * i,
          seed: 100 + i,
          logprobs: true,
          ...(i === 5 ? { stop: ['a'] } : {}),
        },
      }),
    );
    setReplicaEnabled(true);
    const generate = async (useReplica: boolean) => {
      setReplicaEnabled(useReplica);
      const results = [];
      let last = { done: 0, total: 0, tokens: 0 };
      for await (const result of new NanoEngine(cloneModel(model)).generate(requests, {
        onProgress: (progress) => {
          last = progress;
        },
      })) {
        const { latencyMs: _, ...rest } = result;
        results.push(rest);
      }
      const order = (a: { id: string; text: string }, b: { id: string; text: string }) =>
        `${a.id}${a.text}`.localeCompare(`${b.id}${b.text}`);
      return { results: results.sort(order), last };
    };
    const before = sharedReplica()!.shardsComputed;
    const shared = await generate(true);
    expect(sharedReplica()!.shardsComputed).toBe(before + 1);
    const alone = await generate(false);
    expect(shared.results).toEqual(alone.results);
    expect(shared.results).toHaveLength(7);
    const tokens = alone.results.reduce((sum, result) => sum + result.completionTokens, 0);
    expect(shared.last).toEqual({ done: 7, total: 7, tokens });
  });

  it('cancels the requests on both threads when the signal aborts', async () => {
    setReplicaEnabled(true);
    const engine = new NanoEngine(createNanoModel({ ...config, max_position_embeddings: 256 }, 10));
    const controller = new AbortController();
    const requests = Array.from({ length: 4 }, (_, i) =>
      GenerateRequestSchema.parse({
        id: `c${i}`,
        prompt: 'abc',
        sampling: { temperature: 1, maxTokens: 200, seed: i },
      }),
    );
    const reasons: string[] = [];
    for await (const result of engine.generate(requests, {
      onProgress: ({ tokens }) => {
        if (tokens >= 20) controller.abort();
      },
      signal: controller.signal,
    }))
      reasons.push(result.finishReason);
    expect(reasons).toHaveLength(4);
    expect(reasons.filter((reason) => reason === 'cancelled').length).toBeGreaterThanOrEqual(3);
  });

  it('names the field of a bad sequence in the second shard and adds nothing to the gradients', async () => {
    setReplicaEnabled(true);
    const loss = PolicyLossSchema.parse({});
    const train = async (withBadBatch: boolean) => {
      const trainer = new NanoTrainer(createNanoModel(config, 6));
      await trainer.forwardBackward(batch(4, 1), loss);
      await trainer.optimizerStep({ learningRate: 1e-2 });
      if (withBadBatch) {
        const bad = [...batch(4, 2), { promptTokenIds: [1], completionTokenIds: [300] }];
        await expect(trainer.forwardBackward(bad, loss)).rejects.toThrow(
          /sequences\[4\].*outside the vocabulary/,
        );
      }
      await trainer.forwardBackward(batch(4, 3), loss);
      await trainer.optimizerStep({ learningRate: 1e-2 });
      return trainer.model;
    };
    const clean = await train(false);
    const failed = await train(true);
    for (const [name, data] of clean.tensors)
      expect(bytes(failed.tensors.get(name)!).equals(bytes(data)), name).toBe(true);
  });

  it('gives the shard back to the calling thread when its worker cannot start', async () => {
    const missing = new URL('./no-such-replica-worker.js', import.meta.url);
    const failures: string[] = [];
    const broken = new Replica({ script: missing, entry: missing }, (message) => failures.push(message));
    const model = createNanoModel(config, 7);
    const remote = await broken.loss(model, batch(2, 1), PolicyLossSchema.parse({}), {
      scale: 1,
      batch: { tokens: 10, sequences: 2, firstIndex: 0 },
    });
    expect(remote).toBeUndefined();
    expect(broken.available(model)).toBe(false);
    expect(failures).toEqual([expect.stringMatching(/replica worker failed \(Cannot find module/)]);
    await broken.close();
  });
});
