import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type CheckpointWritten,
  type EngineCallOptions,
  type EngineFactory,
  type EngineInfo,
  EngineInfoSchema,
  type EngineV1,
  type ForwardBackwardResult,
  type GenerateRequest,
  type GenerateResult,
  type HiddenRequest,
  type HiddenResult,
  type ModelRef,
  type OptimizerConfig,
  type OptimizerStepResult,
  type PolicyLoss,
  parseWith,
  type ScoreRequest,
  type ScoreResult,
  type TrainerV1,
  type TrainSequence,
  WorkerError,
  XferError,
} from '@xfer/core';
import { TorchWorker, type TorchWorkerOptions } from './torch-worker.js';

export interface TorchEngineOptions extends TorchWorkerOptions {
  model: ModelRef;
  /** A frozen reference (KL) loaded beside the policy. */
  reference?: ModelRef;
  optimizer?: Partial<OptimizerConfig>;
  dtype?: 'float32' | 'bfloat16' | 'float16';
  /** `auto` (CUDA when available), `cpu`, `cuda`, `cuda:1`... */
  device?: string;
  seed?: number;
  /** Where the worker writes tensors (hidden states). Default: a fresh folder under the OS temp dir. */
  scratchDir?: string;
  /** Where nano checkpoints named by `{ kind: 'nano', name }` live. */
  nanoDirectory?: string;
  /**
   * Worker options: `backend` (`auto` | `native` | `transformers`), `cudaGraphs`, `generateBatchSize`,
   * `packing`, `gradientCheckpointing`, `autocast`.
   */
  workerOptions?: Record<string, unknown>;
  /** Requests per generate frame; results stream back per frame. Default 64. */
  generateChunkSize?: number;
}

interface Shared {
  worker: TorchWorker;
  info: EngineInfo;
  scratchDir: string;
  ownsScratch: boolean;
  chunk: number;
}

async function startShared(options: TorchEngineOptions, train: boolean): Promise<Shared> {
  const scratchDir = options.scratchDir ?? path.join(tmpdir(), `xfer-torch-${randomUUID().slice(0, 8)}`);
  await mkdir(scratchDir, { recursive: true });
  const worker = await TorchWorker.start(options);
  try {
    const init = await worker.request(
      'init',
      {
        model: options.model,
        ...(options.reference ? { reference: options.reference } : {}),
        train,
        ...(options.optimizer ? { optimizer: options.optimizer } : {}),
        dtype: options.dtype ?? 'float32',
        device: options.device ?? 'auto',
        seed: options.seed ?? 0,
        scratchDir,
        options: {
          ...(options.nanoDirectory ? { nanoDirectory: options.nanoDirectory } : {}),
          ...options.workerOptions,
        },
      },
      { timeoutMs: options.readyTimeoutMs ?? 600_000 },
    );
    const info = parseWith(EngineInfoSchema, init.info, { field: 'init.info' });
    return {
      worker,
      info,
      scratchDir,
      ownsScratch: options.scratchDir === undefined,
      chunk: options.generateChunkSize ?? 64,
    };
  } catch (error) {
    await worker.close();
    throw error;
  }
}

function callOptions(options: EngineCallOptions | undefined) {
  return {
    ...(options?.signal ? { signal: options.signal } : {}),
    ...(options?.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

/**
 * The torch worker as an `EngineV1`: generation, scoring and hidden states run in the Python process.
 * Create with `createTorchEngine`; `close()` stops the worker.
 */
export class TorchEngine implements EngineV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'torch';
  /** @internal */
  constructor(
    private readonly shared: Shared,
    private readonly closeWorker: boolean,
  ) {}

  /** The process behind this engine (for diagnostics and tests). */
  get worker(): TorchWorker {
    return this.shared.worker;
  }

  async info(): Promise<EngineInfo> {
    return this.shared.info;
  }

  async *generate(
    requests: readonly GenerateRequest[],
    options?: EngineCallOptions,
  ): AsyncIterable<GenerateResult> {
    let done = 0;
    let tokens = 0;
    for (let start = 0; start < requests.length; start += this.shared.chunk) {
      const chunk = requests.slice(start, start + this.shared.chunk);
      let results: GenerateResult[];
      try {
        ({ results } = await this.shared.worker.request(
          'generate',
          { requests: [...chunk] },
          {
            ...callOptions(options),
            onProgress: (progress) =>
              options?.onProgress?.({
                done: done + progress.done,
                total: requests.length,
                tokens: tokens + progress.tokens,
              }),
          },
        ));
      } catch (error) {
        if (XferError.hasCode(error, 'CANCELLED') && options?.signal?.aborted) {
          // as engine-nano: every unfinished request comes back as `cancelled`
          for (const request of requests.slice(start)) {
            yield {
              id: request.id,
              text: '',
              finishReason: 'cancelled',
              promptTokens: 0,
              completionTokens: 0,
              tokenIds: [],
              latencyMs: 0,
            };
          }
          return;
        }
        throw error;
      }
      for (const result of results) {
        done += 1;
        tokens += result.completionTokens;
        yield result;
      }
    }
  }

  async score(requests: readonly ScoreRequest[], options?: EngineCallOptions): Promise<ScoreResult[]> {
    const { results } = await this.shared.worker.request(
      'score',
      { requests: [...requests] },
      callOptions(options),
    );
    return results;
  }

  /**
   * Score under the policy and return, per continuation token, the exact KL(policy ‖ reference) over the
   * whole vocabulary (computed in chunks in the worker). Needs a reference (`reference` option or a
   * trainer's `snapshotReference`).
   */
  async scoreWithKl(
    requests: readonly ScoreRequest[],
    options?: EngineCallOptions,
  ): Promise<(ScoreResult & { kl: number[] })[]> {
    const { results } = await this.shared.worker.request(
      'score',
      { requests: [...requests], klAgainst: 'reference' },
      callOptions(options),
    );
    return results.map((result) => {
      if (!result.kl)
        throw new WorkerError({ reason: 'protocol', message: `score result ${result.id} has no kl` });
      return result as ScoreResult & { kl: number[] };
    });
  }

  async hidden(request: HiddenRequest, options?: EngineCallOptions): Promise<HiddenResult> {
    const result = await this.shared.worker.request('hidden', request, callOptions(options));
    const layers: Float32Array[] = [];
    try {
      for (const ref of result.layers) {
        const bytes = await readFile(ref.path);
        const expected = ref.shape.reduce((a, b) => a * b, 1) * 4;
        if (ref.dtype !== 'float32' || bytes.length !== expected) {
          throw new WorkerError({
            reason: 'protocol',
            message: `hidden tensor ${ref.path} has ${bytes.length} bytes, expected ${expected} float32 bytes`,
          });
        }
        const copy = new Float32Array(expected / 4);
        new Uint8Array(copy.buffer).set(bytes);
        layers.push(copy);
      }
    } finally {
      await Promise.all(result.layers.map((ref) => rm(ref.path, { force: true })));
    }
    return {
      id: request.id,
      hiddenSize: result.hiddenSize,
      numTexts: result.numTexts,
      layers,
      tokenCounts: result.tokenCounts,
    };
  }

  async close(): Promise<void> {
    if (!this.closeWorker) return;
    await this.shared.worker.close();
    if (this.shared.ownsScratch) await rm(this.shared.scratchDir, { recursive: true, force: true });
  }
}

/**
 * The torch worker as a `TrainerV1`: the policy, an optional frozen reference and AdamW live in the
 * Python process; `policy` serves rollouts and scores from the current weights.
 */
export class TorchTrainer implements TrainerV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'torch';
  readonly policy: TorchEngine;

  /** @internal */
  constructor(private readonly shared: Shared) {
    this.policy = new TorchEngine(shared, false);
  }

  get worker(): TorchWorker {
    return this.shared.worker;
  }

  async tokenize(texts: readonly string[]): Promise<number[][]> {
    return (await this.shared.worker.request('tokenize', { texts: [...texts] })).tokenIds;
  }

  async detokenize(tokenIds: readonly number[][]): Promise<string[]> {
    return (await this.shared.worker.request('detokenize', { tokenIds: tokenIds.map((ids) => [...ids]) }))
      .texts;
  }

  async logprobs(sequences: readonly TrainSequence[], model: 'policy' | 'reference'): Promise<number[][]> {
    return (await this.shared.worker.request('logprobs', { sequences: [...sequences], model })).logprobs;
  }

  async forwardBackward(
    sequences: readonly TrainSequence[],
    loss: PolicyLoss,
    options: { scale?: number } = {},
  ): Promise<ForwardBackwardResult> {
    const result = await this.shared.worker.request('forward-backward', {
      sequences: [...sequences],
      loss,
      ...(options.scale === undefined ? {} : { scale: options.scale }),
    });
    return {
      loss: result.loss,
      tokens: result.tokens,
      clipFraction: result.clipFraction,
      kl: result.kl,
      ...(result.entropy === undefined ? {} : { entropy: result.entropy }),
      logprobs: result.logprobs,
    };
  }

  async optimizerStep(options: { learningRate: number; gradClip?: number }): Promise<OptimizerStepResult> {
    return this.shared.worker.request('optimizer-step', options);
  }

  async snapshotReference(): Promise<void> {
    await this.shared.worker.request('snapshot-reference', {});
  }

  async save(directory: string, options: { optimizer?: boolean } = {}): Promise<CheckpointWritten> {
    return this.shared.worker.request('save', {
      directory: path.resolve(directory),
      optimizer: options.optimizer ?? false,
    });
  }

  async load(directory: string, options: { optimizer?: boolean } = {}): Promise<void> {
    await this.shared.worker.request('load', {
      directory: path.resolve(directory),
      optimizer: options.optimizer ?? false,
    });
  }

  async close(): Promise<void> {
    await this.shared.worker.close();
    if (this.shared.ownsScratch) await rm(this.shared.scratchDir, { recursive: true, force: true });
  }
}

/** Start a worker, load `options.model` for inference and return it as an engine. */
export async function createTorchEngine(options: TorchEngineOptions): Promise<TorchEngine> {
  return new TorchEngine(await startShared(options, false), true);
}

/** Start a worker, load `options.model` with an optimizer and return it as a trainer. */
export async function createTorchTrainer(options: TorchEngineOptions): Promise<TorchTrainer> {
  return new TorchTrainer(await startShared(options, true));
}

/**
 * An `EngineFactory` for the CLI and server registries: each model reference gets its own worker process
 * started with `options` (python, device, dtype, environment...).
 */
export function torchEngineFactory(options: Omit<TorchEngineOptions, 'model'> = {}): EngineFactory {
  return (ref) => createTorchEngine({ ...options, model: ref });
}
