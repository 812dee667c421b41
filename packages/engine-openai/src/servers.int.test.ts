import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineError, generateAll } from '@xfer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIEngine } from './openai-engine.js';

// Answers in the shapes real servers give (trimmed copies of vLLM, llama.cpp and Ollama responses); the
// request bodies are recorded so that the dialect each server needs can be checked.
const received: { path: string; body: Record<string, unknown> }[] = [];
const owners: Record<string, string> = { qwen: 'vllm', gguf: 'llamacpp', llama3: 'library' };
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    received.push({ path: request.url ?? '', body });
    response.setHeader('content-type', 'application/json');
    if (request.url === '/v1/models') {
      response.end(
        JSON.stringify({
          object: 'list',
          data: Object.entries(owners).map(([id, owned_by]) => ({
            id,
            object: 'model',
            owned_by,
            max_model_len: 4096,
          })),
        }),
      );
      return;
    }
    if (request.url === '/v1/completions' && body.prompt_logprobs === 1) {
      // vLLM: prompt "Is it? yes" = [Is, ' it', '?', ' yes'] ; the first position is null
      response.end(
        JSON.stringify({
          choices: [
            {
              index: 0,
              text: '!',
              finish_reason: 'length',
              stop_reason: null,
              logprobs: null,
              prompt_logprobs: [
                null,
                {
                  '433': { logprob: -3.1, rank: 2, decoded_token: ' it' },
                  '11': { logprob: -1.0, rank: 1, decoded_token: ',' },
                },
                { '30': { logprob: -0.2, rank: 1, decoded_token: '?' } },
                {
                  '9693': { logprob: -2.5, rank: 3, decoded_token: ' yes' },
                  '2360': { logprob: -0.9, rank: 1, decoded_token: ' no' },
                },
              ],
            },
          ],
          usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
        }),
      );
      return;
    }
    if (request.url === '/v1/chat/completions') {
      response.end(
        JSON.stringify({
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'The answer is 4.', reasoning_content: 'two plus two' },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 12, completion_tokens: 9 },
        }),
      );
      return;
    }
    response.end(
      JSON.stringify({
        choices: [{ index: 0, text: ' 4', finish_reason: 'length' }],
        usage: { prompt_tokens: 5, completion_tokens: 2 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sampling = {
  temperature: 0.7,
  topP: 0.8,
  topK: 20,
  maxTokens: 64,
  stop: ['Problem:'],
  seed: 1234,
  logprobs: false,
};

describe('server dialects', () => {
  it('vLLM: prompt_logprobs for score (exact ranks and token ids), top_k and seed passed through', async () => {
    const engine = new OpenAIEngine({ ref: { kind: 'openai', baseUrl, model: 'qwen', api: 'completions' } });
    expect((await engine.server()).kind).toBe('vllm');
    expect((await engine.info()).maxContext).toBe(4096);
    const [score] = await engine.score([
      { id: 's', context: 'Is it?', continuation: ' yes', fullDistribution: false },
    ]);
    expect(score).toMatchObject({
      tokens: [' yes'],
      tokenIds: [9693],
      logprobs: [-2.5],
      ranks: [3],
      isGreedy: [false],
    });
    const [result] = await generateAll(engine, [{ id: 'g', prompt: 'Problem: 2+2?', sampling }]);
    expect(result).toMatchObject({
      text: ' 4',
      finishReason: 'length',
      promptTokens: 5,
      completionTokens: 2,
    });
    const body = received.filter((entry) => entry.path === '/v1/completions').at(-1)!.body;
    expect(body).toMatchObject({
      model: 'qwen',
      prompt: 'Problem: 2+2?',
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
      seed: 1234,
      max_tokens: 64,
      stop: ['Problem:'],
    });
  });

  it('chat: messages sent as they are, the reasoning parser output kept inside <think>', async () => {
    const engine = new OpenAIEngine({
      ref: { kind: 'openai', baseUrl, model: 'qwen', api: 'chat' },
      chatTemplateKwargs: { enable_thinking: false },
    });
    const [result] = await generateAll(engine, [
      { id: 'c', prompt: 'ignored', messages: [{ role: 'user', content: '2+2?' }], sampling },
    ]);
    expect(result).toMatchObject({
      text: '<think>two plus two</think>The answer is 4.',
      finishReason: 'stop',
      promptTokens: 12,
      completionTokens: 9,
    });
    expect(received.at(-1)?.body).toMatchObject({
      messages: [{ role: 'user', content: '2+2?' }],
      chat_template_kwargs: { enable_thinking: false },
    });
    await expect(generateAll(engine, [{ id: 'no-messages', prompt: 'x', sampling }])).rejects.toSatisfy(
      (error: unknown) =>
        EngineError.isInstance(error) &&
        error.code === 'ENGINE_UNSUPPORTED' &&
        error.requestId === 'no-messages',
    );
  });

  it('llama.cpp and Ollama: no prompt logprobs (typed error, nothing sent); Ollama takes no top_k', async () => {
    const llama = new OpenAIEngine({ ref: { kind: 'openai', baseUrl, model: 'gguf', api: 'completions' } });
    expect((await llama.info()).capabilities).toEqual(['generate']);
    const before = received.length;
    await expect(
      llama.score([{ id: 's', context: 'a', continuation: 'b', fullDistribution: false }]),
    ).rejects.toSatisfy(
      (error: unknown) =>
        EngineError.isInstance(error) &&
        error.code === 'ENGINE_UNSUPPORTED' &&
        error.message.includes('llama.cpp'),
    );
    expect(received.length).toBe(before);
    const ollama = new OpenAIEngine({
      ref: { kind: 'openai', baseUrl, model: 'llama3', api: 'completions' },
    });
    expect((await ollama.server()).kind).toBe('ollama');
    await expect(generateAll(ollama, [{ id: 'k', prompt: 'x', sampling }])).rejects.toSatisfy(
      (error: unknown) =>
        EngineError.isInstance(error) &&
        error.code === 'ENGINE_UNSUPPORTED' &&
        error.message.includes('top_k'),
    );
    const [greedy] = await generateAll(ollama, [
      { id: 'k', prompt: 'x', sampling: { ...sampling, topK: -1 } },
    ]);
    expect(greedy?.text).toBe(' 4');
  });

  it('a model the server does not serve is named in the error', async () => {
    const engine = new OpenAIEngine({
      ref: { kind: 'openai', baseUrl, model: 'missing', api: 'completions' },
    });
    await expect(engine.info()).rejects.toThrow(/"missing" is not served .*qwen, gguf, llama3/);
  });
});
