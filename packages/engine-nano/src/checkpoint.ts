import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CheckpointWritten, parseJson, ValidationError } from '@xfer/core';
import { tokenizerConfigJson } from './chat-template.js';
import { type NanoConfig, parseNanoConfig } from './config.js';
import type { FloatArray } from './kernels/matmul.js';
import { assembleModel, type NanoModel, tensorShapes } from './model.js';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from './safetensors.js';
import { endOfTextId, imEndId, tokenizerJson } from './tokenizer.js';

/** The files of a nano checkpoint directory. */
export const checkpointFiles = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  generationConfig: 'generation_config.json',
} as const;

/** Write a file atomically: a temporary name in the same directory, then a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The Hugging Face `config.json` of a nano model (a Qwen3ForCausalLM). */
export function hfConfigJson(config: NanoConfig): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    intermediate_size: config.intermediate_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    num_key_value_heads: config.num_key_value_heads,
    head_dim: config.head_dim,
    hidden_act: 'silu',
    max_position_embeddings: config.max_position_embeddings,
    rms_norm_eps: config.rms_norm_eps,
    rope_theta: config.rope_theta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    tie_word_embeddings: true,
    use_cache: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: config.num_hidden_layers,
    initializer_range: 0.02,
    bos_token_id: endOfTextId,
    eos_token_id: imEndId,
    pad_token_id: endOfTextId,
    torch_dtype: 'float32',
  };
}

function toFloat32(data: FloatArray): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** The model's tensors as safetensors bytes (float32). */
export function encodeModelWeights(model: NanoModel): Uint8Array {
  const entries = new Map<string, TensorEntry>();
  for (const { name, shape } of tensorShapes(model.config)) {
    entries.set(name, { dtype: 'F32', shape, data: toFloat32(model.tensors.get(name)!) });
  }
  return encodeSafetensors(entries, { format: 'pt' });
}

/**
 * Save a model as a Hugging Face checkpoint directory: config.json, model.safetensors (float32, Qwen3 tensor
 * names, no lm_head: embeddings are tied), tokenizer.json, tokenizer_config.json (with the chat template),
 * generation_config.json. Each file is written to a temporary name and renamed, so a kill never leaves a
 * half-written file; the weights go last.
 */
export async function saveNanoCheckpoint(model: NanoModel, directory: string): Promise<CheckpointWritten> {
  for (const [name, data] of model.tensors) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        throw new ValidationError({
          code: 'CHECKPOINT_INVALID',
          field: name,
          message: `refusing to save a non-finite weight (${data[i]}) at index ${i}`,
        });
      }
    }
  }
  await mkdir(directory, { recursive: true });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFileAtomic(join(directory, checkpointFiles.config), json(hfConfigJson(model.config)));
  await writeFileAtomic(join(directory, checkpointFiles.tokenizer), json(tokenizerJson()));
  await writeFileAtomic(
    join(directory, checkpointFiles.tokenizerConfig),
    json(tokenizerConfigJson(model.config.max_position_embeddings)),
  );
  await writeFileAtomic(
    join(directory, checkpointFiles.generationConfig),
    json({
      bos_token_id: endOfTextId,
      eos_token_id: [imEndId, endOfTextId],
      pad_token_id: endOfTextId,
      do_sample: false,
    }),
  );
  const weights = encodeModelWeights(model);
  await writeFileAtomic(join(directory, checkpointFiles.weights), weights);
  return {
    path: directory,
    sha256: createHash('sha256').update(weights).digest('hex'),
    bytes: weights.length,
  };
}

/** Read and validate a checkpoint's config.json. */
export async function readNanoConfig(directory: string): Promise<NanoConfig> {
  const file = join(directory, checkpointFiles.config);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ValidationError({
      code: 'CHECKPOINT_INVALID',
      file,
      message: `cannot read: ${(cause as Error).message}`,
      cause,
    });
  }
  const value = parseJson(text, { file, code: 'CHECKPOINT_INVALID' }) as Record<string, unknown>;
  if (value?.model_type !== 'qwen3') {
    throw new ValidationError({
      code: 'CHECKPOINT_INVALID',
      file,
      field: 'model_type',
      message: `expected "qwen3", got ${JSON.stringify(value?.model_type)}`,
    });
  }
  return parseNanoConfig(value, file);
}

/**
 * Load a checkpoint written by `saveNanoCheckpoint` (or any float32 Qwen3 checkpoint of the same shape).
 * A missing tensor, an unexpected one, a wrong shape or a dtype other than F32 is a ValidationError
 * (code CHECKPOINT_INVALID) naming the file and the tensor.
 */
export async function loadNanoCheckpoint(directory: string): Promise<NanoModel> {
  const config = await readNanoConfig(directory);
  const file = join(directory, checkpointFiles.weights);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new ValidationError({
      code: 'CHECKPOINT_INVALID',
      file,
      message: `cannot read: ${(cause as Error).message}`,
      cause,
    });
  }
  const decoded = decodeSafetensors(bytes, file);
  const tensors = new Map<string, FloatArray>();
  const fail = (field: string, message: string): never => {
    throw new ValidationError({ code: 'CHECKPOINT_INVALID', file, field, message });
  };
  for (const { name, shape } of tensorShapes(config)) {
    const entry = decoded.tensors.get(name);
    if (!entry) return fail(name, 'missing tensor');
    if (entry.dtype !== 'F32' || !entry.data)
      return fail(name, `dtype ${entry.dtype} is not supported (expected F32)`);
    if (entry.shape.length !== shape.length || entry.shape.some((size, i) => size !== shape[i])) {
      return fail(name, `shape [${entry.shape}] does not match the config's [${shape}]`);
    }
    tensors.set(name, entry.data);
  }
  for (const name of decoded.tensors.keys()) {
    if (name === 'lm_head.weight') continue; // tied to the embeddings
    if (!tensors.has(name)) fail(name, 'unexpected tensor for this config');
  }
  return assembleModel(config, 'float32', tensors);
}

/** sha256 of a file's bytes. */
export async function hashFile(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}
