import { createHash } from 'node:crypto';
import {
  type EngineCallOptions,
  EngineError,
  type EngineInfo,
  type EngineV1,
  type GenerateRequest,
  GenerateRequestSchema,
  type GenerateResult,
  type HiddenRequest,
  HiddenRequestSchema,
  type HiddenResult,
  parseWith,
  type ScoreRequest,
  ScoreRequestSchema,
  type ScoreResult,
} from '@xfer/core';
import { nanoChatTemplate, tokenizerConfigJson } from './chat-template.js';
import { encodeModelWeights } from './checkpoint.js';
import { createCache, decodeStep, type KeyValueCache, prepareModel } from './decode.js';
import { backendFor } from './kernels/backend.js';
import type { FloatArray } from './kernels/matmul.js';
import { pauseGemmHelper, withoutGemmHelper } from './kernels/wasm-matmul.js';
import { FloatArena, type NanoModel, withArena } from './model.js';
import { SeededRandom } from './random.js';
import { sharedReplica, splitPoint } from './replica.js';
import { logSoftmax, sampleToken } from './sampler.js';
import {
  decodeTokens,
  encodeText,
  endOfTextId,
  imEndId,
  tokenizerJson,
  tokenizerVocabSize,
  tokenStrings,
} from './tokenizer.js';
import { forward, logitsFor, type Segment } from './transformer.js';

export interface NanoEngineOptions {
  /** Display name of the model (`nano-base`, a directory...). */
  name?: string;
  /** Sequences decoded together (continuous batching refills freed slots). Default 32. */
  maxBatchSize?: number;
  /** Rows per forward pass for score and hidden. Default 4096. */
  maxRowsPerPass?: number;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Active {
  request: GenerateRequest;
  started: number;
  promptTokens: number;
  cache: KeyValueCache;
  random: SeededRandom;
  generated: number[];
  logprobs: number[];
  next: number;
  pendingLogprob: number;
}

/**
 * engine-nano as an `EngineV1`: in-process generation with a KV cache, scoring and hidden states of a
 * `NanoModel`. It reads the model's weights at every call, so a trainer's policy engine always serves the
 * current weights.
 */
export class NanoEngine implements EngineV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'nano';
  readonly model: NanoModel;
  private readonly options: Required<NanoEngineOptions>;
  private closed = false;
  /** Scratch buffers of one prompt pass, decode step or scoring chunk, reused by the next. */
  private readonly arena = new FloatArena();

  constructor(model: NanoModel, options: NanoEngineOptions = {}) {
    this.model = model;
    this.options = {
      name: options.name ?? 'nano',
      maxBatchSize: options.maxBatchSize ?? 32,
      maxRowsPerPass: options.maxRowsPerPass ?? 4096,
    };
  }

  async info(): Promise<EngineInfo> {
    const config = this.model.config;
    return {
      engine: 'nano',
      model: this.options.name,
      modelHash: sha256(encodeModelWeights(this.model)),
      tokenizerHash: sha256(
        JSON.stringify(tokenizerJson()) + JSON.stringify(tokenizerConfigJson(config.max_position_embeddings)),
      ),
      chatTemplate: nanoChatTemplate,
      chatTemplateHash: sha256(nanoChatTemplate),
      vocabSize: config.vocab_size,
      numLayers: config.num_hidden_layers,
      hiddenSize: config.hidden_size,
      maxContext: config.max_position_embeddings,
      capabilities: ['generate', 'score', 'score-distribution', 'hidden', 'train'],
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new EngineError({ engine: 'nano', message: 'the engine is closed' });
  }

  /** Token ids of a text (special-token strings become their ids). */
  tokenize(text: string): number[] {
    return encodeText(text);
  }

  async *generate(
    requests: readonly GenerateRequest[],
    options: EngineCallOptions = {},
  ): AsyncIterable<GenerateResult> {
    this.checkOpen();
    const parsed = requests.map((request, i) =>
      parseWith(GenerateRequestSchema, request, { field: `requests[${i}]` }),
    );
    const model = this.model;
    const maxPositions = model.config.max_position_embeddings;
    // every prompt is checked before any request starts, on whichever thread it will run
    const promptLengths = parsed.map((request) => {
      const length = Math.max(1, encodeText(request.prompt).length);
      if (length >= maxPositions) {
        throw new EngineError({
          engine: 'nano',
          requestId: request.id,
          message: `prompt of ${length} tokens leaves no room in a context of ${maxPositions}`,
        });
      }
      return length;
    });
    // the second half of the requests goes to the replica when one is free; each request samples from
    // its own seed, so the texts do not depend on which thread decoded them
    const cut = splitPoint(parsed.map((request, i) => promptLengths[i]! + request.sampling.maxTokens));
    const replica = cut < parsed.length ? sharedReplica() : undefined;
    if (!replica?.available(model)) {
      yield* this.generateHere(parsed, options);
      return;
    }
    const remote = replica.generate(model, parsed.slice(cut));
    const resumeHelper = pauseGemmHelper();
    const cancel = () => remote.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    const received = new Set<number>();
    const counts = { localDone: 0, localTokens: 0, remoteDone: 0, remoteTokens: 0 };
    const report = () =>
      options.onProgress?.({
        done: counts.localDone + counts.remoteDone,
        total: parsed.length,
        tokens: counts.localTokens + counts.remoteTokens,
      });
    const local: EngineCallOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: ({ done, tokens }) => {
        counts.localDone = done;
        counts.localTokens = tokens;
        report();
      },
    };
    function* take(): Generator<GenerateResult> {
      for (let next = remote.results.shift(); next; next = remote.results.shift()) {
        received.add(next.index);
        counts.remoteDone++;
        counts.remoteTokens += next.result.completionTokens;
        report();
        yield next.result;
      }
    }
    try {
      for await (const result of this.generateHere(parsed.slice(0, cut), local)) {
        yield result;
        yield* take();
      }
      resumeHelper();
      while (remote.outcome === undefined) {
        yield* take();
        if (remote.outcome === undefined) await remote.changed();
      }
      yield* take();
      if (!remote.outcome) {
        // the replica failed: what it did not finish is generated here
        const rest = parsed.slice(cut).filter((_, i) => !received.has(i));
        for await (const result of this.generateHere(rest, local)) yield result;
      }
    } finally {
      resumeHelper();
      options.signal?.removeEventListener('abort', cancel);
      if (remote.outcome === undefined) remote.cancel();
    }
  }

  /** Generate on this thread with continuous batching. */
  private async *generateHere(
    parsed: readonly GenerateRequest[],
    options: EngineCallOptions,
  ): AsyncIterable<GenerateResult> {
    const model = this.model;
    const backend = backendFor(model.dtype);
    const maxPositions = model.config.max_position_embeddings;
    const vocab = model.config.vocab_size;
    const queue = [...parsed];
    const prepared = prepareModel(model, backend);
    const active: Active[] = [];
    let done = 0;
    let tokens = 0;
    const finish = (
      entry: Active,
      finishReason: GenerateResult['finishReason'],
      text: string,
    ): GenerateResult => {
      done++;
      return {
        id: entry.request.id,
        text,
        finishReason,
        promptTokens: entry.promptTokens,
        completionTokens: entry.generated.length,
        tokenIds: [...entry.generated],
        ...(entry.request.sampling.logprobs ? { logprobs: [...entry.logprobs] } : {}),
        latencyMs: Date.now() - entry.started,
      };
    };
    while (queue.length > 0 || active.length > 0) {
      if (options.signal?.aborted) {
        for (const entry of active)
          yield finish(entry, 'cancelled', decodeTokens(entry.generated, { skipSpecialTokens: true }));
        for (const request of queue) {
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
      while (active.length < this.options.maxBatchSize && queue.length > 0) {
        const request = queue.shift()!;
        const started = Date.now();
        let prompt = encodeText(request.prompt);
        if (prompt.length === 0) prompt = [endOfTextId];
        if (prompt.length >= maxPositions) {
          throw new EngineError({
            engine: 'nano',
            requestId: request.id,
            message: `prompt of ${prompt.length} tokens leaves no room in a context of ${maxPositions}`,
          });
        }
        const cache = createCache(model);
        const entry: Active = {
          request,
          started,
          promptTokens: prompt.length,
          cache,
          random: new SeededRandom(request.sampling.seed),
          generated: [],
          logprobs: [],
          next: 0,
          pendingLogprob: 0,
        };
        // the prompt's pass: its buffers are scratch (the keys and values are copied into the cache)
        withArena(this.arena, () => {
          const { normed } = forward(
            model,
            backend,
            { tokens: Int32Array.from(prompt), segments: [{ start: 0, length: prompt.length }] },
            {
              onKeyValue: (layer, keys, values) => {
                cache.keys[layer]!.set(keys);
                cache.values[layer]!.set(values);
              },
            },
          );
          cache.length = prompt.length;
          const { logits } = logitsFor(model, backend, normed, [prompt.length - 1]);
          this.choose(entry, logits, 0, vocab);
        });
        active.push(entry);
      }
      // accept each active sequence's chosen token; finished ones leave the batch
      const stepping: Active[] = [];
      for (const entry of active.splice(0)) {
        const sampling = entry.request.sampling;
        entry.generated.push(entry.next);
        if (sampling.logprobs) entry.logprobs.push(entry.pendingLogprob);
        tokens++;
        if (entry.next === imEndId || entry.next === endOfTextId) {
          yield finish(
            entry,
            'stop',
            decodeTokens(entry.generated.slice(0, -1), { skipSpecialTokens: true }),
          );
          continue;
        }
        if (sampling.stop.length > 0) {
          const text = decodeTokens(entry.generated);
          let cut = -1;
          for (const stop of sampling.stop) {
            const at = text.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
          }
          if (cut >= 0) {
            yield finish(entry, 'stop', text.slice(0, cut));
            continue;
          }
        }
        if (entry.generated.length >= sampling.maxTokens || entry.cache.length + 1 >= maxPositions) {
          yield finish(entry, 'length', decodeTokens(entry.generated, { skipSpecialTokens: true }));
          continue;
        }
        stepping.push(entry);
      }
      options.onProgress?.({ done, total: parsed.length, tokens });
      if (stepping.length === 0) continue;
      withArena(this.arena, () => {
        const logits = decodeStep(
          model,
          backend,
          stepping.map((entry) => entry.next),
          stepping.map((entry) => entry.cache),
          prepared,
        );
        stepping.forEach((entry, row) => {
          this.choose(entry, logits, row * vocab, vocab);
        });
      });
      active.push(...stepping);
      await tick();
    }
  }

  private choose(entry: Active, logits: FloatArray, offset: number, vocab: number): void {
    const logprobs = logSoftmax(logits, offset, vocab);
    entry.next = sampleToken(
      logprobs,
      entry.request.sampling,
      entry.random,
      Math.min(vocab, tokenizerVocabSize),
    );
    entry.pendingLogprob = logprobs[entry.next]!;
  }

  async score(requests: readonly ScoreRequest[], options: EngineCallOptions = {}): Promise<ScoreResult[]> {
    this.checkOpen();
    const parsed = requests.map((request, i) =>
      parseWith(ScoreRequestSchema, request, { field: `requests[${i}]` }),
    );
    const model = this.model;
    const backend = backendFor(model.dtype);
    const vocab = model.config.vocab_size;
    const results: ScoreResult[] = [];
    let index = 0;
    while (index < parsed.length) {
      if (options.signal?.aborted)
        throw new EngineError({
          engine: 'nano',
          code: 'ENGINE_REQUEST_FAILED',
          message: 'score was cancelled',
        });
      const chunk: { request: ScoreRequest; context: number[]; continuation: number[] }[] = [];
      let rows = 0;
      while (index < parsed.length) {
        const request = parsed[index]!;
        let context = encodeText(request.context);
        if (context.length === 0) context = [endOfTextId];
        const continuation = encodeText(request.continuation);
        const length = context.length + continuation.length - 1;
        if (length > model.config.max_position_embeddings) {
          throw new EngineError({
            engine: 'nano',
            requestId: request.id,
            message: `${length} tokens exceed the context of ${model.config.max_position_embeddings}`,
          });
        }
        if (chunk.length > 0 && rows + length > this.options.maxRowsPerPass) break;
        chunk.push({ request, context, continuation });
        rows += length;
        index++;
      }
      // two shards of whole requests; the second on the replica when one is free (the same logits)
      const cut = splitPoint(
        chunk.map(({ context, continuation }) => context.length + continuation.length - 1),
      );
      const pack = (part: typeof chunk) => {
        const lengths = part.map(({ context, continuation }) => context.length + continuation.length - 1);
        const tokens = new Int32Array(lengths.reduce((a, b) => a + b, 0));
        const segments: Segment[] = [];
        const lossRows: number[] = [];
        let start = 0;
        part.forEach(({ context, continuation }, i) => {
          const all = [...context, ...continuation];
          tokens.set(all.slice(0, -1), start);
          segments.push({ start, length: lengths[i]! });
          for (let t = 0; t < continuation.length; t++) lossRows.push(start + context.length - 1 + t);
          start += lengths[i]!;
        });
        return { tokens, segments, lossRows };
      };
      const shards = [pack(chunk.slice(0, cut)), pack(chunk.slice(cut))];
      const logitsOf = (shard: (typeof shards)[number]) => {
        const { normed } = forward(model, backend, { tokens: shard.tokens, segments: shard.segments });
        return logitsFor(model, backend, normed, shard.lossRows).logits;
      };
      const second = shards[1]!;
      const replica = second.lossRows.length > 0 ? sharedReplica() : undefined;
      const remote = replica?.available(model)
        ? replica.logits(model, second.tokens, second.segments, second.lossRows)
        : undefined;
      const size = (shards[0]!.lossRows.length + second.lossRows.length) * vocab;
      const logits = model.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
      withArena(this.arena, () => {
        const first = shards[0]!;
        logits.set(remote ? withoutGemmHelper(() => logitsOf(first)) : logitsOf(first));
      });
      if (second.lossRows.length > 0) {
        const offset = shards[0]!.lossRows.length * vocab;
        const computed = remote ? await remote : undefined;
        if (computed) logits.set(computed, offset);
        else withArena(this.arena, () => logits.set(logitsOf(second), offset));
      }
      let row = 0;
      for (const { request, continuation } of chunk) {
        const result: ScoreResult = {
          id: request.id,
          tokenIds: continuation,
          tokens: tokenStrings(continuation),
          logprobs: [],
          ranks: [],
          isGreedy: [],
        };
        const distributions: number[][] = [];
        for (const target of continuation) {
          const offset = row * vocab;
          const logprobs = logSoftmax(logits, offset, vocab);
          const targetLogit = logits[offset + target]!;
          let rank = 1;
          for (let j = 0; j < vocab; j++) if (logits[offset + j]! > targetLogit) rank++;
          result.logprobs.push(logprobs[target]!);
          result.ranks.push(rank);
          result.isGreedy.push(rank === 1);
          if (request.fullDistribution) distributions.push(Array.from(logprobs));
          row++;
        }
        if (request.fullDistribution) result.distributions = distributions;
        results.push(result);
      }
      options.onProgress?.({ done: results.length, total: parsed.length, tokens: row });
      await tick();
    }
    return results;
  }

  async hidden(request: HiddenRequest, options: EngineCallOptions = {}): Promise<HiddenResult> {
    this.checkOpen();
    const parsed = parseWith(HiddenRequestSchema, request, { field: 'request' });
    const model = this.model;
    const backend = backendFor(model.dtype);
    const d = model.config.hidden_size;
    const count = model.config.num_hidden_layers + 1;
    const numTexts = parsed.texts.length;
    const layers = Array.from({ length: count }, () => new Float32Array(numTexts * d));
    const tokenCounts: number[] = [];
    for (let first = 0; first < numTexts; first += parsed.batchSize) {
      if (options.signal?.aborted)
        throw new EngineError({
          engine: 'nano',
          code: 'ENGINE_REQUEST_FAILED',
          message: 'hidden was cancelled',
        });
      const texts = parsed.texts.slice(first, first + parsed.batchSize);
      const encoded = texts.map((text) => {
        const ids = encodeText(text).slice(
          0,
          Math.min(parsed.maxLength, model.config.max_position_embeddings),
        );
        return ids.length === 0 ? [endOfTextId] : ids;
      });
      const longest = Math.max(...encoded.map((ids) => ids.length));
      const padded = parsed.pooling === 'mean-with-padding';
      const tokens: number[] = [];
      const segments: Segment[] = [];
      // per text: rows [from, to) to pool over
      const spans: { from: number; to: number; real: number }[] = [];
      for (const ids of encoded) {
        const from = tokens.length;
        const pad = padded ? longest - ids.length : 0;
        if (pad > 0) {
          // left padding: pad rows form their own causal run; real tokens keep the padded positions, as a
          // transformers forward without position_ids gives them, and never attend to padding
          segments.push({ start: tokens.length, length: pad });
          for (let i = 0; i < pad; i++) tokens.push(endOfTextId);
        }
        segments.push({ start: tokens.length, length: ids.length, positionOffset: pad });
        const realFrom = tokens.length;
        tokens.push(...ids);
        spans.push({
          from:
            parsed.pooling === 'mean-with-padding'
              ? from
              : parsed.pooling === 'last'
                ? tokens.length - 1
                : realFrom,
          to: tokens.length,
          real: ids.length,
        });
      }
      forward(
        model,
        backend,
        { tokens: Int32Array.from(tokens), segments },
        {
          onHidden: (layer, hidden) => {
            const target = layers[layer]!;
            spans.forEach((span, i) => {
              const base = (first + i) * d;
              const n = span.to - span.from;
              for (let r = span.from; r < span.to; r++)
                for (let j = 0; j < d; j++) target[base + j]! += hidden[r * d + j]!;
              for (let j = 0; j < d; j++) target[base + j]! /= n;
            });
          },
        },
      );
      for (const span of spans) tokenCounts.push(span.real);
      await tick();
    }
    return { id: parsed.id, hiddenSize: d, numTexts, layers, tokenCounts };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
