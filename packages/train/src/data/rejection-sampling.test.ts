import type { BenchmarkItem } from '@xfer/core';
import { MockEngine } from '@xfer/core/testing';
import type { GenerativeScorer } from '@xfer/eval';
import { describe, expect, it } from 'vitest';
import { buildRejectionSampledData } from './rejection-sampling.js';

const items: BenchmarkItem[] = [
  { id: 'a', benchmark: 'toy', input: { question: '1+1' }, target: '2', meta: {} },
  { id: 'b', benchmark: 'toy', input: { question: '2+2' }, target: '4', meta: {} },
];
const scorer: GenerativeScorer = {
  kind: 'generative',
  name: 'exact',
  version: '1',
  score: ({ item, completion }) => {
    const correct = completion.trim() === item.target;
    return {
      grader: 'exact',
      graderVersion: '1',
      extracted: completion.trim(),
      correct,
      score: correct ? 1 : 0,
      details: {},
    };
  },
};

describe('rejection sampling', () => {
  it('keeps only verified, complete, distinct responses and reports acceptance per query', async () => {
    // The fake teacher answers from the seed: it is right on even seeds, and truncates one response.
    const teacher = new MockEngine({
      respond: (request) => {
        const item = request.prompt.includes('1+1') ? '2' : '4';
        if (request.id === 'b\u00000') return { text: item, finishReason: 'length' };
        return request.sampling.seed % 2 === 0 ? item : 'wrong';
      },
    });
    const data = await buildRejectionSampledData({
      engine: teacher,
      items,
      renderSamplerPrompt: (item) => `Q: ${item.input.question}`,
      renderPolicyPrompt: (item) => `<policy>${item.input.question}`,
      scorer,
      samplesPerQuery: 6,
      seed: 1,
    });
    const seeds = teacher.calls.length;
    expect(seeds).toBeGreaterThan(0);
    // Distinct accepted texts per query: at most one ('2' or '4'), truncations never count.
    for (const query of data.perQuery) expect(query.accepted).toBeLessThanOrEqual(1);
    expect(data.examples.every((e) => e.prompt.startsWith('<policy>'))).toBe(true);
    expect(data.sampled).toBe(12);
    expect(data.acceptanceRate).toBe(data.accepted / 12);
    // Same seed, same data.
    const again = await buildRejectionSampledData({
      engine: teacher,
      items,
      renderSamplerPrompt: (item) => `Q: ${item.input.question}`,
      renderPolicyPrompt: (item) => `<policy>${item.input.question}`,
      scorer,
      samplesPerQuery: 6,
      seed: 1,
    });
    expect(again).toEqual(data);
  });
});
