import { parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';

/**
 * The architecture of a nano model, with Qwen3's `config.json` field names so that a nano checkpoint is a
 * tiny Qwen3 model that `transformers` can load.
 */
export const NanoConfigSchema = z
  .object({
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive(),
    head_dim: z.number().int().positive(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    max_position_embeddings: z.number().int().positive().default(512),
    tie_word_embeddings: z.literal(true).default(true),
  })
  .refine((config) => config.num_attention_heads % config.num_key_value_heads === 0, {
    message: 'num_attention_heads must be a multiple of num_key_value_heads',
    path: ['num_key_value_heads'],
  })
  .refine((config) => config.head_dim % 2 === 0, {
    message: 'head_dim must be even (rotary)',
    path: ['head_dim'],
  });
export type NanoConfig = z.infer<typeof NanoConfigSchema>;
export type NanoConfigInput = z.input<typeof NanoConfigSchema>;

/**
 * The default nano architecture (about 3.2M parameters): `pnpm bench:nano`'s model and a fresh engine's
 * default. The shipped `nano-base` is smaller (the `nano` pretraining preset: 64 wide, 3 layers).
 */
export const defaultNanoConfig: NanoConfig = {
  vocab_size: 264,
  hidden_size: 256,
  intermediate_size: 768,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 32,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 512,
  tie_word_embeddings: true,
};

/** Validate a config (from code or from a `config.json`), throwing a ValidationError naming the field. */
export function parseNanoConfig(value: unknown, file?: string): NanoConfig {
  const config = parseWith(NanoConfigSchema, value, file === undefined ? {} : { file });
  if (config.vocab_size < 261) {
    throw new ValidationError({
      ...(file === undefined ? {} : { file }),
      field: 'vocab_size',
      message: `vocab_size ${config.vocab_size} is smaller than the byte tokenizer's 261 tokens`,
    });
  }
  return config;
}

/** Number of trainable parameters of a config (embeddings counted once: they are tied). */
export function countParameters(config: NanoConfig): number {
  const d = config.hidden_size;
  const q = config.num_attention_heads * config.head_dim;
  const kv = config.num_key_value_heads * config.head_dim;
  const perLayer =
    d * q + 2 * d * kv + q * d + 2 * config.head_dim + 2 * d + 3 * d * config.intermediate_size;
  return config.vocab_size * d + config.num_hidden_layers * perLayer + d;
}
