import { EngineError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { continuationScore, echoPositions, promptLogprobPositions } from './openai-engine.js';
import { CompletionResponseWireSchema } from './wire.js';

const request = { id: 'q1', context: 'The sky is', continuation: ' blue', fullDistribution: false };

describe('echo prompt logprobs (legacy completions shape: SGLang, xfer, vLLM)', () => {
  // A real-shaped answer to {prompt: "The sky is blue", echo: true, logprobs: 1, max_tokens: 1}.
  const response = CompletionResponseWireSchema.parse({
    choices: [
      {
        text: 'The sky is blue.',
        finish_reason: 'length',
        logprobs: {
          tokens: ['The', ' sky', ' is', ' bl', 'ue', '.'],
          token_logprobs: [null, -5.1, -1.2, -2.5, -0.1, -0.7],
          top_logprobs: [
            null,
            { ' sky': -5.1 },
            { ' is': -1.2 },
            { ' the': -0.9 },
            { ue: -0.1 },
            { '.': -0.7 },
          ],
          text_offset: [0, 3, 7, 10, 13, 15],
        },
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 1 },
  });

  it('keeps only the continuation tokens of the prompt, with ranks from top_logprobs', () => {
    const score = continuationScore(request, echoPositions(response, 'The sky is blue', 'q1'));
    expect(score.tokens).toEqual([' bl', 'ue']);
    expect(score.logprobs).toEqual([-2.5, -0.1]);
    expect(score.ranks).toEqual([2, 1]);
    expect(score.isGreedy).toEqual([false, true]);
  });

  it('a token straddling the context boundary belongs to the continuation', () => {
    const score = continuationScore(
      { ...request, context: 'The sky is b', continuation: 'lue' },
      echoPositions(response, 'The sky is blue', 'q1'),
    );
    expect(score.tokens).toEqual([' bl', 'ue']);
  });

  it('a server that ignored echo gives ENGINE_UNSUPPORTED', () => {
    const plain = CompletionResponseWireSchema.parse({ choices: [{ text: '.', finish_reason: 'length' }] });
    try {
      echoPositions(plain, 'The sky is blue', 'q1');
      expect.unreachable();
    } catch (error) {
      expect(EngineError.isInstance(error) && error.code).toBe('ENGINE_UNSUPPORTED');
      expect(EngineError.isInstance(error) && error.requestId).toBe('q1');
    }
  });
});

describe('vLLM prompt_logprobs', () => {
  // Shape of vLLM's completions answer with prompt_logprobs=1: per position, the prompt token plus the top-1.
  const response = CompletionResponseWireSchema.parse({
    choices: [
      {
        text: '.',
        finish_reason: 'length',
        prompt_logprobs: [
          null,
          { '10': { logprob: -5.1, rank: 1, decoded_token: ' sky' } },
          { '11': { logprob: -1.2, rank: 1, decoded_token: ' is' } },
          {
            '31': { logprob: -2.5, rank: 4, decoded_token: ' bl' },
            '7': { logprob: -0.9, rank: 1, decoded_token: ' the' },
          },
          { '44': { logprob: -0.1, rank: 1, decoded_token: 'ue' } },
        ],
      },
    ],
  });
  it('picks the prompt token at each position and its exact rank', () => {
    const score = continuationScore(request, promptLogprobPositions(response, 'q1'));
    expect(score.tokenIds).toEqual([31, 44]);
    expect(score.ranks).toEqual([4, 1]);
    expect(score.logprobs).toEqual([-2.5, -0.1]);
    expect(score.isGreedy).toEqual([false, true]);
  });
});
