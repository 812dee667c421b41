/**
 * An OpenAI-compatible endpoint over any `EngineV1` (in practice a NanoEngine): `GET /v1/models`,
 * `POST /v1/completions` (with `logprobs` and `echo`, the legacy shape lm-eval uses for prompt logprobs)
 * and `POST /v1/chat/completions` (rendered through the model's own chat template). Non-streaming only;
 * one choice per request (`n: 1`); a missing `seed` means seed 0, so answers are reproducible.
 *
 * @module
 */

import { Template } from '@huggingface/jinja';
import {
  type ChatMessage,
  EngineError,
  type EngineInfo,
  type EngineV1,
  type GenerateResult,
  type ScoreResult,
  ValidationError,
} from '@xfer/core';
import { Hono } from 'hono';
import { z } from 'zod';

/** A model the endpoint serves. */
export interface ServedModel {
  engine: EngineV1;
  /** Decodes token ids (to name `top_logprobs` alternatives and compute exact `text_offset`s). */
  decode?: (ids: readonly number[]) => string;
  /** Encodes text (to find a prompt's first token for `echo`). */
  encode?: (text: string) => number[];
}

export interface OpenAIRoutesOptions {
  /** Served models by name (the `model` field of requests). */
  models: Record<string, ServedModel>;
}

const StopSchema = z.union([z.string(), z.array(z.string())]).nullish();

const SamplingFields = {
  model: z.string().min(1),
  max_tokens: z.number().int().nonnegative().nullish(),
  temperature: z.number().min(0).max(10).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullish(),
  stop: StopSchema,
  n: z.literal(1).nullish(),
  stream: z.literal(false).nullish(),
};

const CompletionBodySchema = z.looseObject({
  ...SamplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
});

const ChatBodySchema = z.looseObject({
  ...SamplingFields,
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  max_completion_tokens: z.number().int().positive().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  chat_template_kwargs: z.looseObject({ enable_thinking: z.boolean().optional() }).nullish(),
});

/** An OpenAI-style error answer. */
function openaiError(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
) {
  return { status, body: { error: { message, type, param, code } } };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join('.') || null;
  throw new HttpError(
    400,
    `${param ?? 'body'}: ${issue?.message ?? 'invalid request'}`,
    'invalid_request_error',
    param,
  );
}

interface TokenLogprobs {
  tokens: string[];
  logprobs: (number | null)[];
  top: (Record<string, number> | null)[];
  /** Character offset of each token in the scored text. */
  offsets: number[];
}

/** Per-token logprobs of `continuation` after `context`, with top-k alternatives when asked for. */
async function tokenLogprobs(
  served: ServedModel,
  context: string,
  continuation: string,
  top: number,
  id: string,
): Promise<TokenLogprobs> {
  if (continuation === '') return { tokens: [], logprobs: [], top: [], offsets: [] };
  const decode = served.decode;
  const wantTop = top > 0 && decode !== undefined;
  // A lone byte of a multi-byte character decodes to U+FFFD; name it by id so that keys stay distinct.
  const tokenKey = (tokenId: number) => {
    const text = decode!([tokenId]);
    return text.includes('\uFFFD') ? `token_id:${tokenId}` : text;
  };
  const [score] = (await served.engine.score([{ id, context, continuation, fullDistribution: wantTop }])) as [
    ScoreResult,
  ];
  const offsets: number[] = [];
  let offset = 0;
  for (let i = 0; i < score.tokens.length; i++) {
    offsets.push(offset);
    offset = decode ? decode(score.tokenIds.slice(0, i + 1)).length : offset + (score.tokens[i] ?? '').length;
  }
  const alternatives = score.tokens.map((_, position) => {
    const row = score.distributions?.[position];
    if (!wantTop || !row) return null;
    const best = row
      .map((logprob, tokenId) => ({ logprob, tokenId }))
      .sort((a, b) => b.logprob - a.logprob)
      .slice(0, top);
    const entry: Record<string, number> = {};
    for (const { tokenId, logprob } of best) entry[tokenKey(tokenId)] ??= logprob;
    return entry;
  });
  const tokens = decode ? score.tokenIds.map(tokenKey) : score.tokens;
  return { tokens, logprobs: score.logprobs, top: alternatives, offsets };
}

/**
 * Logprobs of a whole prompt (`echo`): its first token is the context of the rest, so each later token is
 * conditioned exactly as in a `score(context, continuation)` call; the first token has no logprob, as in
 * OpenAI's and vLLM's answers. Without an encoder the first character stands in for the first token (exact
 * for byte-level tokenizers unless the prompt opens with a special token).
 */
async function promptLogprobs(
  served: ServedModel,
  prompt: string,
  top: number,
  id: string,
): Promise<TokenLogprobs> {
  const firstId = served.encode?.(prompt)[0];
  const first = firstId !== undefined && served.decode ? served.decode([firstId]) : ([...prompt][0] ?? '');
  const head = prompt.startsWith(first) ? first : ([...prompt][0] ?? '');
  const rest = await tokenLogprobs(served, head, prompt.slice(head.length), top, id);
  return {
    tokens: [head, ...rest.tokens],
    logprobs: [null, ...rest.logprobs],
    top: [null, ...rest.top],
    offsets: [0, ...rest.offsets.map((offset) => offset + head.length)],
  };
}

async function generateOne(
  served: ServedModel,
  id: string,
  prompt: string,
  body: z.output<typeof CompletionBodySchema> | z.output<typeof ChatBodySchema>,
  maxTokens: number,
): Promise<GenerateResult> {
  const stop =
    body.stop === undefined || body.stop === null ? [] : Array.isArray(body.stop) ? body.stop : [body.stop];
  for await (const result of served.engine.generate([
    {
      id,
      prompt,
      sampling: {
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        topK: body.top_k ?? -1,
        maxTokens,
        stop: stop.filter((text) => text !== ''),
        seed: body.seed ?? 0,
        logprobs: false,
      },
    },
  ])) {
    return result;
  }
  throw new EngineError({
    engine: served.engine.engineId,
    requestId: id,
    message: 'the engine returned no result',
  });
}

function finishReason(result: GenerateResult): string {
  return result.finishReason === 'length' ? 'length' : result.finishReason === 'cancelled' ? 'abort' : 'stop';
}

const templates = new Map<string, Template>();

/** Render messages the way `apply_chat_template(..., add_generation_prompt=True, enable_thinking=...)` does. */
function renderChat(source: string, messages: readonly ChatMessage[], enableThinking: boolean): string {
  let template = templates.get(source);
  if (!template) {
    template = new Template(source);
    templates.set(source, template);
  }
  return template.render({
    messages: messages.map((message) => ({ role: message.role, content: message.content })),
    add_generation_prompt: true,
    enable_thinking: enableThinking,
  });
}

let counter = 0;
function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}${counter.toString(36)}`;
}

/** The Hono routes of the OpenAI-compatible endpoint, to mount at the server root. */
export function openaiRoutes(options: OpenAIRoutesOptions): Hono {
  const app = new Hono();
  const infos = new Map<string, Promise<EngineInfo>>();
  const info = (name: string, served: ServedModel) => {
    let cached = infos.get(name);
    if (!cached) {
      cached = served.engine.info();
      infos.set(name, cached);
    }
    return cached;
  };
  const lookup = (name: string): ServedModel => {
    const served = options.models[name];
    if (!served)
      throw new HttpError(
        404,
        `The model '${name}' does not exist`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    return served;
  };
  const readJson = async (request: Request): Promise<unknown> => {
    try {
      return await request.json();
    } catch {
      throw new HttpError(400, 'the body is not valid JSON', 'invalid_request_error');
    }
  };

  // Engine and validation errors are deterministic for a given request (too long for the context, an
  // unsupported option): 400, so that clients do not retry them. Anything else is a 500.
  app.onError((error, c) => {
    const answer =
      error instanceof HttpError
        ? openaiError(error.status, error.message, error.type, error.param, error.code)
        : EngineError.isInstance(error) || ValidationError.isInstance(error)
          ? openaiError(400, error.message, 'invalid_request_error', null, error.code)
          : openaiError(500, error instanceof Error ? error.message : String(error), 'server_error');
    return c.json(answer.body, answer.status as 400);
  });

  app.get('/v1/models', async (c) => {
    const data = await Promise.all(
      Object.entries(options.models).map(async ([name, served]) => {
        const described = await info(name, served);
        return {
          id: name,
          object: 'model',
          created: 0,
          owned_by: 'xfer',
          root: described.model,
          ...(described.maxContext === undefined ? {} : { max_model_len: described.maxContext }),
          xfer: {
            engine: described.engine,
            modelHash: described.modelHash,
            tokenizerHash: described.tokenizerHash,
            ...(described.chatTemplateHash === undefined
              ? {}
              : { chatTemplateHash: described.chatTemplateHash }),
            ...(described.chatTemplate === undefined ? {} : { chatTemplate: described.chatTemplate }),
            ...(described.maxContext === undefined ? {} : { maxContext: described.maxContext }),
          },
        };
      }),
    );
    return c.json({ object: 'list', data });
  });

  app.post('/v1/completions', async (c) => {
    const body = parseBody(CompletionBodySchema, await readJson(c.req.raw));
    const served = lookup(body.model);
    const prompt = Array.isArray(body.prompt) ? body.prompt[0]! : body.prompt;
    const id = nextId('cmpl');
    const maxTokens = body.max_tokens ?? 16;
    const echo = body.echo === true;
    const wantLogprobs = body.logprobs !== undefined && body.logprobs !== null;
    const result = maxTokens > 0 ? await generateOne(served, id, prompt, body, maxTokens) : undefined;
    const text = result?.text ?? '';
    let logprobs: Record<string, unknown> | null = null;
    if (wantLogprobs) {
      const top = body.logprobs ?? 0;
      const parts: TokenLogprobs[] = [];
      let base = 0;
      if (echo) {
        if (prompt !== '') parts.push(await promptLogprobs(served, prompt, top, `${id}-echo`));
        base = prompt.length;
      }
      const generated = await tokenLogprobs(served, prompt, text, top, `${id}-gen`);
      parts.push({ ...generated, offsets: generated.offsets.map((offset) => offset + base) });
      logprobs = {
        tokens: parts.flatMap((part) => part.tokens),
        token_logprobs: parts.flatMap((part) => part.logprobs),
        top_logprobs: parts.flatMap((part) => part.top),
        text_offset: parts.flatMap((part) => part.offsets),
      };
    }
    const promptTokens = result?.promptTokens ?? 0;
    const completionTokens = result?.completionTokens ?? 0;
    return c.json({
      id,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          text: echo ? prompt + text : text,
          logprobs,
          finish_reason: result ? finishReason(result) : 'length',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  });

  app.post('/v1/chat/completions', async (c) => {
    const body = parseBody(ChatBodySchema, await readJson(c.req.raw));
    const served = lookup(body.model);
    const described = await info(body.model, served);
    if (!described.chatTemplate) {
      throw new HttpError(
        400,
        `model '${body.model}' has no chat template; use /v1/completions`,
        'invalid_request_error',
        'messages',
      );
    }
    const prompt = renderChat(
      described.chatTemplate,
      body.messages,
      body.chat_template_kwargs?.enable_thinking ?? false,
    );
    const id = nextId('chatcmpl');
    const result = await generateOne(
      served,
      id,
      prompt,
      body,
      body.max_completion_tokens ?? body.max_tokens ?? 256,
    );
    let logprobs: { content: unknown[] } | null = null;
    if (body.logprobs) {
      const scored = await tokenLogprobs(served, prompt, result.text, body.top_logprobs ?? 0, `${id}-gen`);
      logprobs = {
        content: scored.tokens.map((token, index) => ({
          token,
          logprob: scored.logprobs[index],
          bytes: [...Buffer.from(token, 'utf8')],
          top_logprobs: Object.entries(scored.top[index] ?? {}).map(([alternative, logprob]) => ({
            token: alternative,
            logprob,
            bytes: [...Buffer.from(alternative, 'utf8')],
          })),
        })),
      };
    }
    return c.json({
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: result.text },
          logprobs,
          finish_reason: finishReason(result),
        },
      ],
      usage: {
        prompt_tokens: result.promptTokens,
        completion_tokens: result.completionTokens,
        total_tokens: result.promptTokens + result.completionTokens,
      },
    });
  });

  return app;
}
