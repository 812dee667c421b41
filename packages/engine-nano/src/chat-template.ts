import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '@xfer/core';
import { EngineError } from '@xfer/core';
import { specialTokens } from './tokenizer.js';

/**
 * A Qwen3-style chat template (ChatML turns; `enable_thinking=false` pre-fills an empty think block, as
 * Qwen3's own template does; earlier assistant turns lose their reasoning).
 */
export const nanoChatTemplate = [
  '{%- if messages[0].role == "system" %}',
  "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}",
  '{%- endif %}',
  '{%- for message in messages %}',
  '{%- if message.role == "user" %}',
  "{{- '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}",
  '{%- elif message.role == "assistant" %}',
  '{%- set content = message.content %}',
  "{%- if not loop.last and '</think>' in content %}",
  "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}",
  '{%- endif %}',
  "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}",
  '{%- endif %}',
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "{{- '<|im_start|>assistant\\n' }}",
  '{%- if enable_thinking is defined and enable_thinking is false %}',
  "{{- '<think>\\n\\n</think>\\n\\n' }}",
  '{%- endif %}',
  '{%- endif %}',
].join('\n');

/** The part of a `tokenizer_config.json` that rendering needs. */
export interface TokenizerConfigLike {
  chat_template?: string | null;
  bos_token?: string | null;
  eos_token?: string | null;
}

/** The Hugging Face `tokenizer_config.json` of a nano model. */
export function tokenizerConfigJson(maxLength: number): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const token of Object.values(specialTokens)) {
    decoder[String(token.id)] = {
      content: token.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: token.special,
    };
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: [specialTokens.imStart.content, specialTokens.imEnd.content],
    bos_token: null,
    chat_template: nanoChatTemplate,
    clean_up_tokenization_spaces: false,
    eos_token: specialTokens.imEnd.content,
    errors: 'replace',
    model_max_length: maxLength,
    pad_token: specialTokens.endOfText.content,
    split_special_tokens: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: null,
  };
}

const compiled = new Map<string, Template>();

/**
 * Render chat messages through a tokenizer config's Jinja chat template with `@huggingface/jinja`, the way
 * `tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=…, enable_thinking=…)`
 * does. Reusable for any Hugging Face tokenizer config, not only nano's.
 */
export function renderChat(
  tokenizerConfig: TokenizerConfigLike,
  messages: readonly ChatMessage[],
  options: { enableThinking?: boolean; addGenerationPrompt?: boolean } = {},
): string {
  const source = tokenizerConfig.chat_template;
  if (typeof source !== 'string' || source === '') {
    throw new EngineError({
      engine: 'nano',
      code: 'ENGINE_UNSUPPORTED',
      message: 'the tokenizer has no chat template',
    });
  }
  let template = compiled.get(source);
  if (!template) {
    template = new Template(source);
    compiled.set(source, template);
  }
  return template.render({
    messages: messages.map((message) => ({ role: message.role, content: message.content })),
    add_generation_prompt: options.addGenerationPrompt ?? true,
    enable_thinking: options.enableThinking ?? true,
    bos_token: tokenizerConfig.bos_token ?? '',
    eos_token: tokenizerConfig.eos_token ?? '',
  });
}
