import { fileURLToPath } from 'node:url';
import { EvalSettingsSchema } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { gpqaDiamond } from '../benchmarks/choice-benchmarks.js';
import { math500 } from '../benchmarks/math.js';
import { loadChatTemplate } from '../chat/chat-template.js';
import { benchmarkSampling, planRequests } from '../runner/plan.js';
import { toEvalBenchmark } from './eval-adapter.js';

describe('registry benchmarks in the runner', () => {
  it('plan requests with the paper decoding and the model chat template', async () => {
    const items = await math500.load({ limit: 2 });
    const adapted = toEvalBenchmark(math500, items, { source: 'local' });
    expect(adapted).toMatchObject({
      id: 'math-500',
      version: math500.version,
      group: 'math',
      kind: 'generative',
    });
    const settings = EvalSettingsSchema.parse({ benchmarks: ['math-500'] });
    expect(benchmarkSampling(adapted, settings)).toMatchObject({ temperature: 0.7, maxTokens: 32768 });
    const template = await loadChatTemplate(
      fileURLToPath(new URL('../chat/__fixtures__/qwen3', import.meta.url)),
    );
    const renderer = { sha256: template.sha256, render: template.render.bind(template) };
    const info = {
      engine: 'test',
      model: 'm',
      modelHash: 'h',
      tokenizerHash: 't',
      capabilities: ['generate' as const],
    };
    const planned = planRequests(info, renderer, [adapted], settings);
    expect(planned).toHaveLength(2);
    expect(planned[0]!.prompt).toBe(
      `<|im_start|>user\n${math500.prompt(items[0]!, { enableThinking: false })[0]!.content}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`,
    );
  });

  it('scores with the primary scorer', async () => {
    const [item] = await gpqaDiamond.load({ limit: 1 });
    const adapted = toEvalBenchmark(gpqaDiamond, [item!]);
    expect(adapted.scorer.name).toBe('gpqa-letter');
    expect(adapted.messages(item!)[0]!.content).toContain('Options: A) ');
  });
});
