import { EngineError, type GenerateRequest, generateAll, type ScoreRequest } from '@xfer/core';
import {
  createNanoModel,
  decodeTokens,
  encodeText,
  NanoEngine,
  renderChat,
  tokenizerConfigJson,
} from '@xfer/engine-nano';
import { tinyNanoConfig } from '@xfer/engine-nano/testing';
import { OpenAIEngine } from '@xfer/engine-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { listen, type RunningServer } from '../listen.js';

// A small random-weight nano model: real forward passes, real sampling, real logprobs.
const nano = new NanoEngine(createNanoModel(tinyNanoConfig(256), 11), { name: 'nano-tiny' });
let server: RunningServer;
beforeAll(async () => {
  server = await listen(
    createApp({ engines: { 'nano-tiny': { engine: nano, decode: decodeTokens, encode: encodeText } } }),
  );
});
afterAll(async () => {
  await server.close();
});

const engine = (api: 'chat' | 'completions') =>
  new OpenAIEngine({
    ref: { kind: 'openai', baseUrl: `${server.url}/v1`, model: 'nano-tiny', api },
    concurrency: 3,
  });

const requests: GenerateRequest[] = [0, 1, 2, 3].map((index) => ({
  id: `g${index}`,
  prompt: `Compute ${index} + ${index}:`,
  messages: [{ role: 'user', content: `Compute ${index} + ${index}:` }],
  sampling: {
    temperature: index === 0 ? 0 : 0.9,
    topP: 0.95,
    topK: -1,
    maxTokens: 12,
    stop: [],
    seed: 100 + index,
    logprobs: false,
  },
}));

describe('serve-model endpoint over a NanoEngine', () => {
  it('advertises the checkpoint hashes', async () => {
    const [over, direct] = await Promise.all([engine('completions').info(), nano.info()]);
    expect(over.modelHash).toBe(direct.modelHash);
    expect(over.tokenizerHash).toBe(direct.tokenizerHash);
    expect(over.chatTemplateHash).toBe(direct.chatTemplateHash);
  });

  it('completions over HTTP sample exactly what the engine samples in-process (same seeds)', async () => {
    const over = await generateAll(engine('completions'), requests);
    const direct = await generateAll(nano, requests);
    expect(over.map((r) => [r.text, r.finishReason, r.completionTokens])).toEqual(
      direct.map((r) => [r.text, r.finishReason, r.completionTokens]),
    );
  });

  it('chat completions render the nano chat template server-side', async () => {
    const [over] = await generateAll(engine('chat'), [requests[1]!]);
    const prompt = renderChat(tokenizerConfigJson(256), requests[1]!.messages!, { enableThinking: false });
    const [direct] = await generateAll(nano, [{ ...requests[1]!, prompt }]);
    expect(over?.text).toBe(direct?.text);
  });

  it('score through echo + logprobs equals the in-process score, with exact ranks from top_logprobs', async () => {
    const scoreRequests: ScoreRequest[] = [
      {
        id: 's0',
        context: 'Question: is the sky blue?\nAnswer:',
        continuation: ' yes',
        fullDistribution: false,
      },
      {
        id: 's1',
        context: 'Question: is the sky blue?\nAnswer:',
        continuation: ' no',
        fullDistribution: false,
      },
      // a chat-rendered prompt opens with a special token: echo must not split it
      {
        id: 's2',
        context: '<|im_start|>user\nIs it blue?<|im_end|>\n<|im_start|>assistant\n',
        continuation: 'yes',
        fullDistribution: false,
      },
    ];
    const over = await engine('completions').score(scoreRequests);
    const direct = await nano.score(scoreRequests);
    for (let i = 0; i < direct.length; i++) {
      expect(over[i]!.tokens.join('')).toBe(scoreRequests[i]!.continuation);
      expect(over[i]!.logprobs).toHaveLength(direct[i]!.logprobs.length);
      over[i]!.logprobs.forEach((value, j) => {
        expect(value).toBeCloseTo(direct[i]!.logprobs[j]!, 4);
      });
      // ranks within the top 5 alternatives are exact; beyond, a lower bound of 6
      over[i]!.ranks.forEach((rank, j) => {
        expect(rank).toBe(Math.min(direct[i]!.ranks[j]!, 6));
      });
    }
  });

  it('a request the model cannot take (longer than its context) is a 400, failed at once without retries', async () => {
    const client = engine('completions');
    const long = { ...requests[0]!, id: 'too-long', prompt: 'x'.repeat(400) };
    const error = await generateAll(client, [long]).catch((caught: unknown) => caught);
    expect(EngineError.isInstance(error)).toBe(true);
    expect((error as EngineError).requestId).toBe('too-long');
    expect((error as EngineError).message).toContain('HTTP 400');
    expect(client.retriesUsed).toBe(0);
  });
});
