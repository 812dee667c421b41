import { Worker } from 'node:worker_threads';
import type { GenerateRequest, GenerateResult, PolicyLoss, TrainSequence } from '@xfer/core';
import type { NanoConfig } from './config.js';
import { nanoThreadCount } from './kernels/wasm-matmul.js';
import type { NanoModel } from './model.js';
import type { BatchShare, PolicyLossOutcome } from './policy-loss.js';
import type { Gradients, Segment } from './transformer.js';

/**
 * Data parallelism over two cores. engine-nano splits a batch in two shards by a rule that depends only on
 * the batch (`splitPoint`): the calling thread computes the first, and the replica, a worker thread with the
 * same code and a copy of the weights in shared memory, the second at the same time. When no replica runs
 * (one thread, float64 models, the replica busy with another call, or failed) the calling thread computes
 * the second shard itself, through the same code in the same order, so every result is the same bits
 * whichever thread computed it. Gradients of the second shard are summed into the first's after both.
 */

/** The work a replica does, each on one shard. */
export type ReplicaRequest =
  | {
      kind: 'init';
      config: NanoConfig;
      /** Name and length of each tensor, in the order they lie in both buffers. */
      layout: [string, number][];
      weights: SharedArrayBuffer;
      gradients: SharedArrayBuffer;
    }
  | {
      kind: 'loss';
      id: number;
      sequences: TrainSequence[];
      loss: PolicyLoss;
      scale: number;
      batch: BatchShare;
      referenceLogprobs?: number[][];
    }
  | { kind: 'logprobs'; id: number; sequences: TrainSequence[]; firstIndex: number }
  | { kind: 'logits'; id: number; tokens: Int32Array; segments: Segment[]; rows: number[] }
  | { kind: 'generate'; id: number; requests: GenerateRequest[] }
  | { kind: 'cancel'; id: number };

export type ReplicaReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string }
  /** One finished request of a `generate` call (`index` into its requests), before the call's reply. */
  | { id: number; partial: GenerateResult; index: number };

/**
 * Where the second shard of `sizes` (one cost per item, e.g. tokens per sequence) starts: the cut that
 * leaves the two halves' costs closest, the earlier cut on a tie; `sizes.length` (no second shard) for
 * fewer than two items.
 */
export function splitPoint(sizes: readonly number[]): number {
  if (sizes.length < 2) return sizes.length;
  const total = sizes.reduce((a, b) => a + b, 0);
  let best = 1;
  let bestGap = Number.POSITIVE_INFINITY;
  let prefix = 0;
  for (let i = 1; i < sizes.length; i++) {
    prefix += sizes[i - 1]!;
    const gap = Math.abs(2 * prefix - total);
    if (gap < bestGap) {
      best = i;
      bestGap = gap;
    }
  }
  return best;
}

/** Sum `addend` into `target`, tensor by tensor (the order every shard sum uses). */
export function addGradients(target: Gradients, addend: Gradients): void {
  for (const [name, into] of target) {
    const from = addend.get(name)!;
    for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
  }
}

/** Requests the replica is generating: their results as they finish, and how the call ended. */
export interface RemoteGeneration {
  /** Finished results not yet taken, with their index into the requests. */
  readonly results: { index: number; result: GenerateResult }[];
  /** Undefined while running; true when every request finished, false when the replica failed. */
  outcome: boolean | undefined;
  /** Resolves at the next result or at the end. */
  changed(): Promise<void>;
  /** Ask the replica to stop (unfinished requests come back with finishReason `cancelled`). */
  cancel(): void;
}

/** A loss shard computed by the replica: its outcome and its gradients (valid until `release`). */
export interface RemoteLoss {
  outcome: PolicyLossOutcome;
  gradients: Gradients;
  release(): void;
}

const here = import.meta.url;
const fromSource = here.endsWith('.ts');

/** The worker entry next to this module: the TypeScript source through its boot file, or the build. */
function defaultEntry(): { script: URL; entry: URL } {
  const entry = new URL(fromSource ? './replica-worker.ts' : './replica-worker.js', here);
  return { script: fromSource ? new URL('./replica-boot.mjs', here) : entry, entry };
}

interface Slot {
  key: string;
  names: string[];
  weights: Float32Array;
  gradients: Gradients;
}

/** The main thread's handle on one replica worker. */
export class Replica {
  private readonly worker: Worker;
  private slot: Slot | undefined;
  private pending = new Map<number, (reply: ReplicaReply | undefined) => void>();
  private streams = new Map<number, (partial: { index: number; result: GenerateResult }) => void>();
  private nextId = 1;
  private busy = false;
  private failed = false;
  /** Shards this replica computed (the rest of a shared batch ran on the calling thread). */
  shardsComputed = 0;

  constructor(
    location: { script: URL; entry: URL } = defaultEntry(),
    /** Told once when the worker fails (default: a process warning; the calls go on, on one thread). */
    onFailure: (message: string) => void = (message) => process.emitWarning(message),
  ) {
    const execArgv = [...process.execArgv];
    if (fromSource && !execArgv.some((flag) => flag.includes('@xfer/source')))
      execArgv.push('--conditions=@xfer/source');
    this.worker = new Worker(location.script, {
      workerData: { entry: location.entry.href },
      execArgv,
      // the replica computes on one thread: no GEMM helper of its own
      env: { ...process.env, XFER_NANO_THREADS: '1' },
    });
    this.worker.unref();
    this.worker.on('message', (reply: ReplicaReply) => {
      if ('partial' in reply) this.streams.get(reply.id)?.({ index: reply.index, result: reply.partial });
      else this.settle(reply.id, reply);
    });
    const fail = (error?: unknown) => {
      if (!this.failed && error instanceof Error)
        onFailure(`engine-nano's replica worker failed (${error.message}); the second core is not used`);
      this.failed = true;
      for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail());
  }

  /** Whether a call made now would run on the replica. */
  available(model: NanoModel): boolean {
    return !this.failed && !this.busy && model.dtype === 'float32';
  }

  private settle(id: number, reply: ReplicaReply | undefined): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    resolve(reply);
  }

  /** Copy the model's weights into shared memory (allocating the slot for its shape on first use). */
  private load(model: NanoModel): Slot {
    const key = JSON.stringify(model.config);
    if (this.slot?.key !== key) {
      const names = [...model.tensors.keys()];
      const total = names.reduce((sum, name) => sum + model.tensors.get(name)!.length, 0);
      const weights = new SharedArrayBuffer(total * 4);
      const gradientBuffer = new SharedArrayBuffer(total * 4);
      const gradients: Gradients = new Map();
      let offset = 0;
      for (const name of names) {
        const length = model.tensors.get(name)!.length;
        gradients.set(name, new Float32Array(gradientBuffer, offset * 4, length));
        offset += length;
      }
      this.worker.postMessage({
        kind: 'init',
        config: model.config,
        layout: names.map((name) => [name, model.tensors.get(name)!.length]),
        weights,
        gradients: gradientBuffer,
      } satisfies ReplicaRequest);
      this.slot = { key, names, weights: new Float32Array(weights), gradients };
    }
    const slot = this.slot;
    let offset = 0;
    for (const name of slot.names) {
      const data = model.tensors.get(name)!;
      slot.weights.set(data, offset);
      offset += data.length;
    }
    return slot;
  }

  private call<T>(model: NanoModel, request: Record<string, unknown>): Promise<T | undefined> {
    this.load(model);
    this.busy = true;
    const id = this.nextId++;
    return new Promise<ReplicaReply | undefined>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref();
      this.worker.postMessage({ ...request, id });
    }).then((reply) => {
      if (!reply || !('ok' in reply) || !reply.ok) return undefined;
      this.shardsComputed++;
      return reply.value as T;
    });
  }

  /**
   * Start the loss and gradients of a shard; resolves to undefined when the replica could not compute it
   * (the caller computes the shard itself). The replica stays reserved until `release`.
   */
  async loss(
    model: NanoModel,
    sequences: TrainSequence[],
    loss: PolicyLoss,
    options: { scale: number; batch: BatchShare; referenceLogprobs?: number[][] },
  ): Promise<RemoteLoss | undefined> {
    const outcome = await this.call<PolicyLossOutcome>(model, { kind: 'loss', sequences, loss, ...options });
    if (!outcome) {
      this.busy = false;
      return undefined;
    }
    return {
      outcome,
      gradients: this.slot!.gradients,
      release: () => {
        this.busy = false;
      },
    };
  }

  /** Completion logprobs of a shard (undefined: compute it locally). */
  async logprobs(
    model: NanoModel,
    sequences: TrainSequence[],
    firstIndex: number,
  ): Promise<number[][] | undefined> {
    try {
      return await this.call<number[][]>(model, { kind: 'logprobs', sequences, firstIndex });
    } finally {
      this.busy = false;
    }
  }

  /** Logits of `rows` after a forward pass over a packed shard (undefined: compute it locally). */
  async logits(
    model: NanoModel,
    tokens: Int32Array,
    segments: Segment[],
    rows: number[],
  ): Promise<Float32Array | undefined> {
    try {
      return await this.call<Float32Array>(model, { kind: 'logits', tokens, segments, rows });
    } finally {
      this.busy = false;
    }
  }

  /**
   * Generate `requests` on the replica, streaming each result back as it finishes. Each request's sampling
   * depends on its own seed only, so the texts are those the calling thread would produce.
   */
  generate(model: NanoModel, requests: GenerateRequest[]): RemoteGeneration {
    let wake: () => void = () => {};
    let waiting = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const notify = () => {
      wake();
      waiting = new Promise<void>((resolve) => {
        wake = resolve;
      });
    };
    const id = this.nextId;
    const generation: RemoteGeneration = {
      results: [],
      outcome: undefined,
      changed: () => waiting,
      cancel: () => this.worker.postMessage({ kind: 'cancel', id } satisfies ReplicaRequest),
    };
    this.streams.set(id, (partial) => {
      generation.results.push(partial);
      notify();
    });
    void this.call<null>(model, { kind: 'generate', requests }).then((value) => {
      this.streams.delete(id);
      this.busy = false;
      generation.outcome = value === null;
      notify();
    });
    return generation;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

let shared: Replica | undefined | null;
let enabled = process.env.XFER_NANO_REPLICA !== '0';

/**
 * The process's replica, started on first use when engine-nano computes with two threads
 * (`XFER_NANO_THREADS`, default min(2, cores)); `XFER_NANO_REPLICA=0` turns it off (the second shard is
 * then computed on the calling thread, with the same result).
 */
export function sharedReplica(): Replica | undefined {
  if (!enabled) return undefined;
  if (shared === undefined) shared = nanoThreadCount() > 1 ? new Replica() : null;
  return shared ?? undefined;
}

/** Turn the shared replica on or off (tests compare the two paths); returns the previous setting. */
export function setReplicaEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}
