import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { type ChatMessage, parseJson, parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';
import { readTextFile } from '../data/read-records.js';

const SpecialTokenSchema = z
  .union([z.string(), z.object({ content: z.string() }).loose(), z.null()])
  .optional();

/** The fields of a Hugging Face `tokenizer_config.json` that prompt rendering uses. */
export const TokenizerConfigSchema = z
  .object({
    chat_template: z
      .union([z.string().min(1), z.array(z.object({ name: z.string(), template: z.string().min(1) }))])
      .optional(),
    bos_token: SpecialTokenSchema,
    eos_token: SpecialTokenSchema,
  })
  .loose();
export type TokenizerConfig = z.infer<typeof TokenizerConfigSchema>;

/** A compiled chat template with the special tokens it needs and a hash that identifies it. */
export interface ChatTemplate {
  readonly source: string;
  readonly sha256: string;
  readonly bosToken: string;
  readonly eosToken: string;
  render(messages: readonly ChatMessage[], options?: RenderOptions): string;
}

export interface RenderOptions {
  /** Qwen3-style thinking switch, passed to the template as `enable_thinking`. Default false (the paper's). */
  enableThinking?: boolean;
  /** Append the assistant turn opener. Default true. */
  addGenerationPrompt?: boolean;
}

function tokenText(token: z.infer<typeof SpecialTokenSchema>): string {
  if (token === undefined || token === null) return '';
  return typeof token === 'string' ? token : token.content;
}

/** Compile a Jinja chat template (the string from `tokenizer_config.json`). */
export function createChatTemplate(
  source: string,
  tokens: { bosToken?: string; eosToken?: string } = {},
): ChatTemplate {
  let template: Template;
  try {
    template = new Template(source);
  } catch (cause) {
    throw new ValidationError({
      field: 'chat_template',
      message: `invalid Jinja: ${(cause as Error).message}`,
      cause,
    });
  }
  const bosToken = tokens.bosToken ?? '';
  const eosToken = tokens.eosToken ?? '';
  return {
    source,
    sha256: createHash('sha256').update(source).digest('hex'),
    bosToken,
    eosToken,
    render(messages, options = {}) {
      return template.render({
        messages: messages.map((message) => ({ role: message.role, content: message.content })),
        add_generation_prompt: options.addGenerationPrompt ?? true,
        enable_thinking: options.enableThinking ?? false,
        bos_token: bosToken,
        eos_token: eosToken,
      });
    },
  };
}

/** Build a chat template from a parsed `tokenizer_config.json`; `name` picks one of several named templates. */
export function chatTemplateFromConfig(
  config: unknown,
  options: { file?: string; name?: string } = {},
): ChatTemplate {
  const where = {
    ...(options.file === undefined ? {} : { file: options.file }),
    code: 'INVALID_CONFIG' as const,
  };
  const parsed = parseWith(TokenizerConfigSchema, config, where);
  let source: string | undefined;
  if (typeof parsed.chat_template === 'string') source = parsed.chat_template;
  else if (Array.isArray(parsed.chat_template)) {
    const wanted = options.name ?? 'default';
    source = parsed.chat_template.find((entry) => entry.name === wanted)?.template;
  }
  if (source === undefined) {
    throw new ValidationError({
      ...where,
      field: 'chat_template',
      message: 'the tokenizer config has no chat template; the paper renders every prompt through one',
    });
  }
  return createChatTemplate(source, {
    bosToken: tokenText(parsed.bos_token),
    eosToken: tokenText(parsed.eos_token),
  });
}

/** Load the chat template of a model: a `tokenizer_config.json` path, or a model directory holding one. */
export async function loadChatTemplate(path: string, options: { name?: string } = {}): Promise<ChatTemplate> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'tokenizer_config.json');
  } catch {
    // readTextFile reports the missing path
  }
  const text = await readTextFile(file);
  return chatTemplateFromConfig(parseJson(text, { file, code: 'INVALID_CONFIG' }), { file, ...options });
}

/**
 * The plain rendering used when a model has no chat template (base models through lm-eval without
 * `--apply_chat_template`): message contents joined as they are, few-shot turns separated by blank lines.
 */
export const plainTemplate: ChatTemplate = {
  source: 'plain',
  sha256: createHash('sha256').update('plain').digest('hex'),
  bosToken: '',
  eosToken: '',
  render(messages) {
    return messages.map((message) => message.content).join('\n\n');
  },
};
