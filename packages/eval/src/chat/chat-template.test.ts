import { fileURLToPath } from 'node:url';
import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { acpBench } from '../benchmarks/choice-benchmarks.js';
import {
  chatTemplateFromConfig,
  createChatTemplate,
  loadChatTemplate,
  plainTemplate,
} from './chat-template.js';

const qwen3 = fileURLToPath(new URL('./__fixtures__/qwen3', import.meta.url));

describe('chat templates', () => {
  it('renders the Qwen3 template with thinking off (empty think block) and on', async () => {
    const template = await loadChatTemplate(qwen3);
    const messages = [{ role: 'user' as const, content: 'What is 2+2?' }];
    expect(template.render(messages, { enableThinking: false })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    expect(template.render(messages, { enableThinking: true })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(template.render(messages, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n',
    );
    expect(template.eosToken).toBe('<|im_end|>');
    expect(template.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renders a real ACPBench 2-shot prompt as one user turn', async () => {
    const template = await loadChatTemplate(`${qwen3}/tokenizer_config.json`);
    const [item] = await acpBench.load({ limit: 1 });
    const text = template.render(acpBench.prompt(item!, { enableThinking: false }));
    expect(text.match(/<\|im_start\|>/g)).toHaveLength(2);
    expect(text.match(/\*\*Question\*\*:/g)).toHaveLength(3);
  });

  it('named templates, special tokens as objects, and typed errors', () => {
    const config = {
      chat_template: [
        {
          name: 'default',
          template: '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}',
        },
      ],
      bos_token: { content: '<s>' },
    };
    expect(chatTemplateFromConfig(config).render([{ role: 'user', content: 'hi' }])).toBe('<s>[user]hi');
    expect(() =>
      chatTemplateFromConfig({ bos_token: '<s>' }, { file: 'tokenizer_config.json' }),
    ).toThrowError(/tokenizer_config.json, field 'chat_template'/);
    expect(() => createChatTemplate('{% for %}')).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(
      plainTemplate.render([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    ).toBe('a\n\nb');
  });

  it('reports a missing tokenizer config with its path', async () => {
    const error = await loadChatTemplate('/nonexistent/model').catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).file).toBe('/nonexistent/model');
  });
});
