import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { renderChat, tokenizerConfigJson } from './chat-template.js';
import { decodeTokens, encodeText, specialTokens, tokenizerJson } from './tokenizer.js';

const samples = [
  '',
  'hello world',
  'Ünïcödé ✓ 数学 🙂',
  'tabs\tand\nnewlines  ',
  '<|im_start|>user\n2+2?<|im_end|>\n<think>\n\n</think>\n\n4<|im_end|>',
];

describe('byte tokenizer', () => {
  it('round-trips text, bytes and special tokens', () => {
    for (const text of samples) expect(decodeTokens(encodeText(text))).toBe(text);
    expect(encodeText('a<|im_end|>b')).toEqual([97, specialTokens.imEnd.id, 98]);
    expect(encodeText('é')).toEqual([0xc3, 0xa9]);
    expect(decodeTokens([97, 258, 98], { skipSpecialTokens: true })).toBe('ab');
    expect(decodeTokens([0xc3])).toBe('\uFFFD');
  });

  it('tokenizer.json encodes and decodes the same ids with an independent implementation (@huggingface/tokenizers)', () => {
    const tokenizer = new Tokenizer(tokenizerJson() as never, tokenizerConfigJson(512) as never);
    for (const text of samples) {
      const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
      expect(ids).toEqual(encodeText(text));
      if (ids.length > 0) expect(tokenizer.decode(ids, { skip_special_tokens: false })).toBe(text);
    }
  });
});

describe('chat template', () => {
  const config = tokenizerConfigJson(512);
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'What is 2+2?' },
    { role: 'assistant' as const, content: '<think>\nadd\n</think>\n\n4' },
    { role: 'user' as const, content: 'And 3+3?' },
  ];

  it('renders Qwen3-style turns, with and without thinking', () => {
    expect(renderChat(config, messages, { enableThinking: false })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n' +
        '<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    expect(renderChat(config, messages.slice(1, 2), { enableThinking: true })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(renderChat(config, messages.slice(1, 3), { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nadd\n</think>\n\n4<|im_end|>\n',
    );
  });
});
