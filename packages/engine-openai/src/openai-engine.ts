import { createHash } from 'node:crypto';
import {
  canonicalJson,
  type EngineCallOptions,
  EngineError,
  type EngineInfo,
  type EngineV1,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type HiddenRequest,
  type HiddenResult,
  type OpenAIModelRef,
  OpenAIModelRefSchema,
  parseWith,
  type ScoreRequest,
  type ScoreResult,
  XferError,
} from '@xfer/core';
import type { z } from 'zod';
import { Limiter } from './limiter.js';
import {
  backoffDelay,
  defaultRetryPolicy,
  parseRetryAfter,
  RetryBudget,
  type RetryPolicy,
  seededRandom,
  sleep,
  type TransientReason,
} from './retry.js';
import { detectServerKind, type ServerKind, type ServerProfile, serverProfile } from './servers.js';
import {
  ChatResponseWireSchema,
  type CompletionResponseWire,
  CompletionResponseWireSchema,
  ModelsResponseWireSchema,
} from './wire.js';

/** One retry the engine decided to make, reported through `onRetry` (for logs and tests). */
export interface RetryEvent {
  requestId: string;
  /** The attempt that failed (1 = first). */
  attempt: number;
  reason: TransientReason;
  status?: number;
  delayMs: number;
  message: string;
}

export interface OpenAIEngineOptions {
  /** Which server and model; `apiKeyEnv` names the environment variable that holds the key. */
  ref: z.input<typeof OpenAIModelRefSchema>;
  /** The server's dialect; detected from `/v1/models` `owned_by` when left out. */
  server?: ServerKind;
  /** HTTP requests in flight at most, over all calls on this engine. Default 8. */
  concurrency?: number;
  /** Per-attempt deadline (headers and body). Default 10 minutes (long reasoning traces). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Seed of the backoff jitter. */
  seed?: number;
  /** Top alternatives asked for with `echo` prompt logprobs (ranks beyond them are lower bounds). Default 5. */
  topLogprobs?: number;
  /** Where `apiKeyEnv` is looked up. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Called before each retry sleeps. */
  onRetry?: (event: RetryEvent) => void;
  /**
   * Sent as `chat_template_kwargs` with chat requests (vLLM, SGLang, xfer), e.g. `{ enable_thinking: false }`
   * so that a Qwen3 template renders the paper's no-think prompt server-side.
   */
  chatTemplateKwargs?: Record<string, unknown>;
}

class TransientFailure extends Error {
  constructor(
    readonly reason: TransientReason,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const engineId = 'openai';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'abort' || reason === 'cancelled') return 'cancelled';
  return 'stop';
}

/**
 * An `EngineV1` over an OpenAI-compatible HTTP server: vLLM, SGLang, llama.cpp server, Ollama, or xfer's
 * own `serve-model`. Chat (`/v1/chat/completions`) or completions (`/v1/completions`) as the model
 * reference says; prompt logprobs for `score` through vLLM's `prompt_logprobs` or `echo` + `logprobs`
 * (a typed `ENGINE_UNSUPPORTED` on servers that have neither). Every request is bounded by a shared
 * concurrency limit and retried on 429, 5xx, timeouts, dropped connections and malformed bodies with
 * exponential backoff and jitter, honouring `Retry-After`, within a per-request and an engine-wide budget.
 */
export class OpenAIEngine implements EngineV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = engineId;
  readonly ref: OpenAIModelRef;
  readonly limiter: Limiter;
  private readonly options: OpenAIEngineOptions;
  private readonly policy: RetryPolicy;
  private readonly budget: RetryBudget;
  private readonly random: () => number;
  private readonly timeoutMs: number;
  private readonly closer = new AbortController();
  private models: Promise<{ profile: ServerProfile; info: EngineInfo }> | undefined;

  constructor(options: OpenAIEngineOptions) {
    this.options = options;
    this.ref = parseWith(OpenAIModelRefSchema, options.ref, { field: 'ref' });
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.policy = { ...defaultRetryPolicy, ...options.retry };
    this.budget = new RetryBudget(this.policy.retryBudget);
    this.random = seededRandom(options.seed ?? 0);
    this.timeoutMs = options.timeoutMs ?? 600_000;
  }

  /** Retries spent so far, all requests together. */
  get retriesUsed(): number {
    return this.budget.used;
  }

  async info(): Promise<EngineInfo> {
    return (await this.describe()).info;
  }

  /** The server dialect in use (detected or given). */
  async server(): Promise<ServerProfile> {
    return (await this.describe()).profile;
  }

  async *generate(
    requests: readonly GenerateRequest[],
    options: EngineCallOptions = {},
  ): AsyncIterable<GenerateResult> {
    const { profile } = await this.describe();
    const finished: GenerateResult[] = [];
    let wake: (() => void) | undefined;
    let failure: unknown;
    let stopped = false;
    let remaining = requests.length;
    let done = 0;
    let tokens = 0;
    const notify = () => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    for (const request of requests) {
      void (async () => {
        await this.limiter.acquire();
        try {
          if (stopped || options.signal?.aborted) return;
          const result = await this.generateOne(request, profile, options.signal);
          finished.push(result);
          done += 1;
          tokens += result.completionTokens;
          options.onProgress?.({ done, total: requests.length, tokens });
        } catch (error) {
          if (failure === undefined) failure = error;
          stopped = true;
        } finally {
          this.limiter.release();
          remaining -= 1;
          notify();
        }
      })();
    }
    try {
      // Yield each result as it lands; after a failure, in-flight requests still finish and are yielded
      // (so that the caller keeps them) before the failure is thrown.
      while (true) {
        while (finished.length > 0) yield finished.shift() as GenerateResult;
        if (remaining === 0) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure !== undefined) throw failure;
      if (options.signal?.aborted)
        throw new XferError({ code: 'CANCELLED', message: 'generation cancelled' });
    } finally {
      stopped = true;
    }
  }

  async score(requests: readonly ScoreRequest[], options: EngineCallOptions = {}): Promise<ScoreResult[]> {
    const { profile } = await this.describe();
    if (profile.promptLogprobs === 'none') {
      throw new EngineError({
        engine: engineId,
        code: 'ENGINE_UNSUPPORTED',
        message: `${profile.kind} server offers no prompt logprobs (neither prompt_logprobs nor echo + logprobs); log-likelihood tasks need vLLM, SGLang or xfer serve-model`,
      });
    }
    const wanted = requests.find((request) => request.fullDistribution);
    if (wanted) {
      throw new EngineError({
        engine: engineId,
        code: 'ENGINE_UNSUPPORTED',
        requestId: wanted.id,
        message: 'full next-token distributions are not available over the OpenAI API',
      });
    }
    let done = 0;
    return Promise.all(
      requests.map(async (request) => {
        const result = await this.limiter.run(() => this.scoreOne(request, profile, options.signal));
        done += 1;
        options.onProgress?.({ done, total: requests.length, tokens: result.tokenIds.length });
        return result;
      }),
    );
  }

  async hidden(request: HiddenRequest): Promise<HiddenResult> {
    throw new EngineError({
      engine: engineId,
      code: 'ENGINE_UNSUPPORTED',
      requestId: request.id,
      message: 'hidden states are not exposed by OpenAI-compatible servers',
    });
  }

  async close(): Promise<void> {
    this.closer.abort(new XferError({ code: 'CANCELLED', message: 'engine closed' }));
  }

  // ---------------------------------------------------------------------------------------------------

  private url(path: string): string {
    return `${this.ref.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const name = this.ref.apiKeyEnv;
    const key = name === undefined ? undefined : (this.options.env ?? process.env)[name];
    if (key) headers.authorization = `Bearer ${key}`;
    return headers;
  }

  private describe(): Promise<{ profile: ServerProfile; info: EngineInfo }> {
    this.models ??= this.fetchModels().catch((error) => {
      this.models = undefined;
      throw error;
    });
    return this.models;
  }

  private async fetchModels(): Promise<{ profile: ServerProfile; info: EngineInfo }> {
    const models = await this.request('models', 'GET', '/models', undefined, ModelsResponseWireSchema);
    const entry = models.data.find((model) => model.id === this.ref.model);
    if (!entry) {
      throw new EngineError({
        engine: engineId,
        code: 'ENGINE_REQUEST_FAILED',
        message: `model "${this.ref.model}" is not served at ${this.ref.baseUrl} (it serves: ${models.data.map((m) => m.id).join(', ') || 'nothing'})`,
      });
    }
    const profile = serverProfile(this.options.server ?? detectServerKind(entry.owned_by));
    const remote = canonicalJson({ server: profile.kind, model: entry.id, root: entry.root ?? undefined });
    const capabilities: EngineInfo['capabilities'] =
      profile.promptLogprobs === 'none' ? ['generate'] : ['generate', 'score'];
    const maxContext = entry.xfer?.maxContext ?? entry.max_model_len;
    const info: EngineInfo = {
      engine: `${engineId}:${profile.kind}`,
      model: entry.id,
      modelHash: entry.xfer?.modelHash ?? sha256(`model:${remote}`),
      tokenizerHash: entry.xfer?.tokenizerHash ?? sha256(`tokenizer:${remote}`),
      ...(entry.xfer?.chatTemplateHash === undefined
        ? {}
        : { chatTemplateHash: entry.xfer.chatTemplateHash }),
      ...(entry.xfer?.chatTemplate === undefined ? {} : { chatTemplate: entry.xfer.chatTemplate }),
      ...(maxContext === undefined ? {} : { maxContext }),
      capabilities,
    };
    return { profile, info };
  }

  private samplingBody(request: GenerateRequest, profile: ServerProfile): Record<string, unknown> {
    const sampling = request.sampling;
    const body: Record<string, unknown> = {
      model: this.ref.model,
      max_tokens: sampling.maxTokens,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      seed: sampling.seed,
      stream: false,
    };
    if (sampling.stop.length > 0) body.stop = sampling.stop;
    if (sampling.topK > 0) {
      if (!profile.topK) {
        throw new EngineError({
          engine: engineId,
          code: 'ENGINE_UNSUPPORTED',
          requestId: request.id,
          message: `${profile.kind} server does not take top_k over its OpenAI API (asked for top_k=${sampling.topK})`,
        });
      }
      body.top_k = sampling.topK;
    }
    return body;
  }

  private async generateOne(
    request: GenerateRequest,
    profile: ServerProfile,
    signal?: AbortSignal,
  ): Promise<GenerateResult> {
    const started = performance.now();
    const body = this.samplingBody(request, profile);
    if (this.ref.api === 'chat') {
      if (!request.messages || request.messages.length === 0) {
        throw new EngineError({
          engine: engineId,
          code: 'ENGINE_UNSUPPORTED',
          requestId: request.id,
          message:
            'the chat API needs request.messages (the server renders its own template); use api "completions" for pre-rendered prompts',
        });
      }
      body.messages = request.messages;
      if (this.options.chatTemplateKwargs) body.chat_template_kwargs = this.options.chatTemplateKwargs;
      if (request.sampling.logprobs) body.logprobs = true;
      const response = await this.request(
        request.id,
        'POST',
        '/chat/completions',
        body,
        ChatResponseWireSchema,
        signal,
      );
      const choice = response.choices[0]!;
      const content = choice.message.content ?? '';
      const reasoning = choice.message.reasoning_content;
      const text = reasoning ? `<think>${reasoning}</think>${content}` : content;
      const logprobs = choice.logprobs?.content?.map((entry) => entry.logprob);
      return {
        id: request.id,
        text,
        finishReason: mapFinishReason(choice.finish_reason),
        promptTokens: response.usage?.prompt_tokens ?? 0,
        completionTokens: response.usage?.completion_tokens ?? 0,
        ...(request.sampling.logprobs && logprobs ? { logprobs } : {}),
        latencyMs: performance.now() - started,
      };
    }
    body.prompt = request.prompt;
    if (request.sampling.logprobs) body.logprobs = 1;
    const response = await this.request(
      request.id,
      'POST',
      '/completions',
      body,
      CompletionResponseWireSchema,
      signal,
    );
    const choice = response.choices[0]!;
    const logprobs = choice.logprobs?.token_logprobs.map((value) => value ?? 0);
    return {
      id: request.id,
      text: choice.text,
      finishReason: mapFinishReason(choice.finish_reason),
      promptTokens: response.usage?.prompt_tokens ?? 0,
      completionTokens: response.usage?.completion_tokens ?? 0,
      ...(request.sampling.logprobs && logprobs ? { logprobs } : {}),
      latencyMs: performance.now() - started,
    };
  }

  private async scoreOne(
    request: ScoreRequest,
    profile: ServerProfile,
    signal?: AbortSignal,
  ): Promise<ScoreResult> {
    if (request.continuation === '') {
      return { id: request.id, tokenIds: [], tokens: [], logprobs: [], ranks: [], isGreedy: [] };
    }
    const prompt = request.context + request.continuation;
    const body: Record<string, unknown> = {
      model: this.ref.model,
      prompt,
      max_tokens: 1,
      temperature: 0,
      seed: 0,
    };
    if (profile.promptLogprobs === 'prompt-logprobs') body.prompt_logprobs = 1;
    else Object.assign(body, { echo: true, logprobs: this.options.topLogprobs ?? 5 });
    const response = await this.request(
      request.id,
      'POST',
      '/completions',
      body,
      CompletionResponseWireSchema,
      signal,
    );
    const positions =
      profile.promptLogprobs === 'prompt-logprobs'
        ? promptLogprobPositions(response, request.id)
        : echoPositions(response, prompt, request.id);
    return continuationScore(request, positions);
  }

  /**
   * One HTTP exchange with retries. Transient failures (429, 408, 5xx, timeouts, dropped connections,
   * malformed bodies) back off and retry within the per-request attempts and the engine-wide budget;
   * anything else, or a spent budget, throws an `EngineError` naming the request.
   */
  private async request<S extends z.ZodType>(
    requestId: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(requestId, method, path, body, schema, signal);
      } catch (error) {
        if (!(error instanceof TransientFailure)) throw error;
        const outOfAttempts = attempt >= this.policy.maxAttempts;
        if (outOfAttempts || !this.budget.take()) {
          throw new EngineError({
            engine: engineId,
            code: error.reason === 'timeout' ? 'ENGINE_TIMEOUT' : 'ENGINE_REQUEST_FAILED',
            requestId,
            message: `${method} ${path} gave up after ${attempt} attempt(s) (${outOfAttempts ? 'attempts' : 'engine retry budget'} exhausted): ${error.message}`,
            data: { reason: error.reason, status: error.status, attempts: attempt },
          });
        }
        const delayMs = backoffDelay(attempt, this.policy, this.random, error.retryAfterMs);
        this.options.onRetry?.({
          requestId,
          attempt,
          reason: error.reason,
          ...(error.status === undefined ? {} : { status: error.status }),
          delayMs,
          message: error.message,
        });
        try {
          await sleep(delayMs, signal);
          if (this.closer.signal.aborted) throw this.closer.signal.reason;
        } catch {
          throw cancelled(requestId);
        }
      }
    }
  }

  private async attempt<S extends z.ZodType>(
    requestId: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    signal: AbortSignal | undefined,
  ): Promise<z.output<S>> {
    const closer = this.closer.signal;
    if (signal?.aborted || closer.aborted) throw cancelled(requestId);
    // One controller per attempt (cheaper than AbortSignal.any/timeout, and nothing left registered on
    // long-lived signals afterwards).
    const controller = new AbortController();
    const abort = () => controller.abort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    signal?.addEventListener('abort', abort);
    closer.addEventListener('abort', abort);
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url(path), {
        method,
        headers: this.headers(),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted || closer.aborted) throw cancelled(requestId);
      if (timedOut) throw new TransientFailure('timeout', `no complete response within ${this.timeoutMs} ms`);
      throw new TransientFailure('connection', `connection failed: ${describeNetworkError(error)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      closer.removeEventListener('abort', abort);
    }
    if (response.status === 429 || response.status === 408 || response.status >= 500) {
      throw new TransientFailure(
        response.status === 429 ? 'rate-limited' : 'server-error',
        `HTTP ${response.status}: ${text.slice(0, 200)}`,
        response.status,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    if (!response.ok) {
      throw new EngineError({
        engine: engineId,
        code: 'ENGINE_REQUEST_FAILED',
        requestId,
        message: `${method} ${path} answered HTTP ${response.status}: ${serverMessage(text)}`,
        data: { status: response.status },
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TransientFailure(
        'malformed-body',
        `HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 80)}`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TransientFailure(
        'malformed-body',
        `HTTP ${response.status} with an unexpected body: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  }
}

function cancelled(requestId: string): XferError {
  return new XferError({ code: 'CANCELLED', message: `request ${requestId} cancelled`, data: { requestId } });
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const inner =
    cause instanceof Error ? `${(cause as { code?: string }).code ?? cause.name}: ${cause.message}` : '';
  return inner ? `${error.message} (${inner})` : error.message;
}

function serverMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    if (typeof json.error === 'string') return json.error;
    return json.error?.message ?? json.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

/** One prompt token as a server reported it. `end` is the character offset where it ends in the prompt. */
export interface PromptPosition {
  tokenId: number;
  text: string;
  end: number;
  logprob: number | null;
  rank: number;
}

function malformed(requestId: string, message: string): EngineError {
  return new EngineError({ engine: engineId, code: 'ENGINE_UNSUPPORTED', requestId, message });
}

/** Positions from legacy `echo` + `logprobs`: tokens over prompt + completion, with `text_offset`. */
export function echoPositions(
  response: CompletionResponseWire,
  prompt: string,
  requestId: string,
): PromptPosition[] {
  const logprobs = response.choices[0]?.logprobs;
  if (!logprobs?.text_offset) {
    throw malformed(
      requestId,
      'the server ignored echo + logprobs (no text_offset in the answer): prompt logprobs unavailable',
    );
  }
  const offsets = logprobs.text_offset;
  const positions: PromptPosition[] = [];
  for (let i = 0; i < logprobs.tokens.length; i++) {
    const start = offsets[i] ?? prompt.length;
    if (start >= prompt.length) break; // generated tokens follow the echoed prompt
    const end = Math.min(prompt.length, offsets[i + 1] ?? prompt.length);
    const logprob = logprobs.token_logprobs[i] ?? null;
    const top = logprobs.top_logprobs?.[i] ?? undefined;
    const text = logprobs.tokens[i] ?? '';
    let rank = 1;
    if (logprob !== null && top) {
      const better = Object.entries(top).filter(([token, value]) => token !== text && value > logprob).length;
      rank = 1 + better;
    }
    positions.push({ tokenId: -1, text, end: Math.max(end, start), logprob, rank });
  }
  return positions;
}

/**
 * Positions from vLLM's `prompt_logprobs: 1`: each position maps token ids to `{logprob, rank,
 * decoded_token}`; the prompt token is the only entry, or the one whose rank is above 1. Offsets are not
 * given, so ends are rebuilt from the decoded tokens, counted back from the end of the prompt.
 */
export function promptLogprobPositions(
  response: CompletionResponseWire,
  requestId: string,
): PromptPosition[] {
  const entries = response.choices[0]?.prompt_logprobs;
  if (!entries) throw malformed(requestId, 'the server ignored prompt_logprobs: prompt logprobs unavailable');
  const positions: PromptPosition[] = entries.map((entry) => {
    if (entry === null) return { tokenId: -1, text: '', end: 0, logprob: null, rank: 1 };
    const options = Object.entries(entry);
    const [id, chosen] =
      options.length === 1
        ? options[0]!
        : (options.find(([, value]) => (value.rank ?? 1) > 1) ?? options[0]!);
    return {
      tokenId: Number(id),
      text: chosen.decoded_token ?? '',
      end: 0,
      logprob: chosen.logprob,
      rank: chosen.rank ?? 1,
    };
  });
  let end = positions.reduce((sum, position) => sum + position.text.length, 0);
  for (let i = positions.length - 1; i >= 0; i--) {
    positions[i]!.end = end;
    end -= positions[i]!.text.length;
  }
  return positions;
}

/**
 * The continuation's tokens: those that end after the context, counted back from the end of the prompt
 * (a token that straddles the boundary belongs to the continuation, since it carries its characters).
 */
export function continuationScore(request: ScoreRequest, positions: readonly PromptPosition[]): ScoreResult {
  const total = positions.length === 0 ? 0 : positions[positions.length - 1]!.end;
  const boundary = total - request.continuation.length;
  const chosen = positions.filter((position) => position.end > boundary);
  if (chosen.length === 0 || chosen.some((position) => position.logprob === null)) {
    throw malformed(
      request.id,
      'no logprob for the first continuation token (an empty context has nothing to condition on)',
    );
  }
  return {
    id: request.id,
    tokenIds: chosen.map((position) => position.tokenId),
    tokens: chosen.map((position) => position.text),
    logprobs: chosen.map((position) => position.logprob as number),
    ranks: chosen.map((position) => Math.max(1, position.rank)),
    isGreedy: chosen.map((position) => position.rank === 1),
  };
}
