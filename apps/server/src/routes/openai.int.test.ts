import { EngineError, type GenerateRequest, generateAll, type ScoreRequest, XferError } from '@xfer/core';
import { MockEngine } from '@xfer/core/testing';
import { OpenAIEngine, type RetryEvent } from '@xfer/engine-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { listen, type RunningServer } from '../listen.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../testing/fault-proxy.js';

// A deterministic engine behind the endpoint: each character is a token, logprobs depend on the character.
const template = '{%- for m in messages %}<{{ m.role }}>{{ m.content }}\n{%- endfor %}<assistant>';
const backend = new MockEngine({
  respond: (request) => {
    const reply = `answer(${request.prompt.length},${request.sampling.seed})`;
    return reply.length > request.sampling.maxTokens
      ? { text: reply.slice(0, request.sampling.maxTokens), finishReason: 'length' }
      : { text: reply, finishReason: 'stop' };
  },
  score: (request) => {
    const tokens = [...request.continuation];
    return {
      tokenIds: tokens.map((token) => token.charCodeAt(0)),
      tokens,
      logprobs: tokens.map((token) => -((token.charCodeAt(0) % 7) + 1) / 10),
      ranks: tokens.map(() => 1),
      isGreedy: tokens.map(() => true),
    };
  },
  info: {
    model: 'mock-nano',
    modelHash: 'a'.repeat(64),
    tokenizerHash: 'b'.repeat(64),
    chatTemplate: template,
    chatTemplateHash: 'c'.repeat(64),
  },
});

let server: RunningServer;
beforeAll(async () => {
  server = await listen(createApp({ engines: { 'nano-test': backend } }));
});
afterAll(async () => {
  await server.close();
});

const sampling = { temperature: 0, topP: 1, topK: -1, maxTokens: 64, stop: [], seed: 0, logprobs: false };
const requests: GenerateRequest[] = Array.from({ length: 12 }, (_, index) => ({
  id: `r${index}`,
  prompt: `question number ${index} ${'x'.repeat(index)}`,
  messages: [{ role: 'user', content: `question number ${index}` }],
  sampling: { ...sampling, seed: index },
}));

function engineFor(baseUrl: string, extra: Partial<ConstructorParameters<typeof OpenAIEngine>[0]> = {}) {
  return new OpenAIEngine({
    ref: { kind: 'openai', baseUrl: `${baseUrl}/v1`, model: 'nano-test', api: 'completions' },
    concurrency: 4,
    retry: { baseDelayMs: 5, maxDelayMs: 2_000 },
    timeoutMs: 2_000,
    ...extra,
  });
}

describe('the OpenAI-compatible endpoint through engine-openai', () => {
  it('describes the served model with the checkpoint hashes', async () => {
    const engine = engineFor(server.url);
    const info = await engine.info();
    expect(info.engine).toBe('openai:xfer');
    expect(info.modelHash).toBe('a'.repeat(64));
    expect(info.chatTemplateHash).toBe('c'.repeat(64));
    expect(info.capabilities).toEqual(['generate', 'score']);
  });

  it('completions: the same text, finish_reason and usage as the engine itself', async () => {
    const engine = engineFor(server.url);
    const over = await generateAll(engine, requests);
    const direct = await generateAll(backend, requests);
    expect(over.map((r) => [r.text, r.finishReason, r.promptTokens, r.completionTokens])).toEqual(
      direct.map((r) => [r.text, r.finishReason, r.promptTokens, r.completionTokens]),
    );
    const [truncated] = await generateAll(engine, [
      { ...requests[0]!, sampling: { ...sampling, maxTokens: 3 } },
    ]);
    expect(truncated?.finishReason).toBe('length');
    expect(truncated?.text).toBe('ans');
  });

  it('chat: renders messages through the served chat template', async () => {
    const engine = new OpenAIEngine({
      ref: { kind: 'openai', baseUrl: `${server.url}/v1`, model: 'nano-test', api: 'chat' },
    });
    const [result] = await generateAll(engine, [requests[3]!]);
    const rendered = '<user>question number 3<assistant>';
    expect(result?.text).toBe(`answer(${rendered.length},3)`);
  });

  it('score: echo + logprobs gives the continuation logprobs the engine computes', async () => {
    const engine = engineFor(server.url);
    const scoreRequests: ScoreRequest[] = [
      { id: 's0', context: 'Question: 2+2=', continuation: ' 4', fullDistribution: false },
      { id: 's1', context: 'The capital of France is', continuation: ' Paris', fullDistribution: false },
    ];
    const over = await engine.score(scoreRequests);
    const direct = await backend.score(scoreRequests);
    expect(over.map((r) => r.tokens)).toEqual(direct.map((r) => r.tokens));
    expect(over.map((r) => r.logprobs)).toEqual(direct.map((r) => r.logprobs));
  });

  it('score on a server without prompt logprobs (llama.cpp, Ollama) is ENGINE_UNSUPPORTED', async () => {
    const engine = engineFor(server.url, { server: 'llama.cpp' });
    await expect(
      engine.score([{ id: 's', context: 'a', continuation: 'b', fullDistribution: false }]),
    ).rejects.toSatisfy(
      (error: unknown) => EngineError.isInstance(error) && error.code === 'ENGINE_UNSUPPORTED',
    );
  });

  it('unknown models and bad bodies get OpenAI-shaped 4xx errors, not retried', async () => {
    const missing = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nope', prompt: 'x' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    const bad = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nano-test', prompt: 'x', temperature: -1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('temperature');
  });
});

describe('reliability against injected faults', () => {
  let proxy: FaultProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
  });

  it('429 with Retry-After, 500, a hang, a malformed body and dropped connections: the run completes with correct results', async () => {
    const faults: Record<number, Fault> = {
      1: { kind: 'status', status: 429, retryAfter: '1' },
      2: { kind: 'status', status: 500 },
      3: { kind: 'hang' },
      4: { kind: 'malformed' },
      5: { kind: 'drop' },
      6: { kind: 'drop-mid-body' },
      7: { kind: 'status', status: 503 },
    };
    proxy = await startFaultProxy(server.url, (index) => faults[index]);
    const retries: RetryEvent[] = [];
    const engine = engineFor(proxy.url, {
      timeoutMs: 500,
      ref: {
        kind: 'openai',
        baseUrl: `${proxy.url}/v1`,
        model: 'nano-test',
        api: 'completions',
        apiKeyEnv: 'XFER_TEST_KEY',
      },
      env: { XFER_TEST_KEY: 'secret-key' },
      onRetry: (event) => retries.push(event),
    });
    const started = Date.now();
    const over = await generateAll(engine, requests);
    const direct = await generateAll(backend, requests);
    expect(over.map((r) => r.text)).toEqual(direct.map((r) => r.text));
    expect(retries.map((event) => event.reason).sort()).toEqual(
      [
        'connection',
        'connection',
        'malformed-body',
        'rate-limited',
        'server-error',
        'server-error',
        'timeout',
      ].sort(),
    );
    const rateLimited = retries.find((event) => event.reason === 'rate-limited');
    expect(rateLimited?.status).toBe(429);
    expect(rateLimited?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(engine.retriesUsed).toBe(7);
    expect(proxy.log.every((entry) => entry.authorization === 'Bearer secret-key')).toBe(true);
    await proxy.close();
    proxy = undefined;
  });

  it('keeps at most `concurrency` requests open, and keeps them full', async () => {
    proxy = await startFaultProxy(server.url, (_, path) =>
      path.endsWith('/completions') ? { kind: 'delay', ms: 40 } : undefined,
    );
    const engine = engineFor(proxy.url, { concurrency: 3 });
    const over = await generateAll(engine, requests);
    expect(over).toHaveLength(12);
    expect(proxy.maxInFlight).toBe(3);
    await proxy.close();
    proxy = undefined;
  });

  it('past the retry budget: the error names the request, and every other result still arrives', async () => {
    proxy = await startFaultProxy(server.url, (_, path, body) =>
      path.endsWith('/completions') && body.includes('question number 5 ')
        ? { kind: 'status', status: 500 }
        : undefined,
    );
    const engine = engineFor(proxy.url, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const received: string[] = [];
    let failure: unknown;
    try {
      for await (const result of engine.generate(requests)) received.push(result.id);
    } catch (error) {
      failure = error;
    }
    expect(EngineError.isInstance(failure)).toBe(true);
    expect((failure as EngineError).requestId).toBe('r5');
    expect((failure as EngineError).message).toContain('gave up after 3 attempt(s)');
    expect(XferError.hasCode(failure, 'ENGINE_REQUEST_FAILED')).toBe(true);
    // Requests started before the failure finish and are delivered; none is lost silently.
    expect(received).not.toContain('r5');
    expect(received.length).toBeGreaterThanOrEqual(5);
    const attemptsOnFive = proxy.log.filter((entry) => entry.body.includes('question number 5 ')).length;
    expect(attemptsOnFive).toBe(3);
  });
});
