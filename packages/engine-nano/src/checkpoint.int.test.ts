import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@xfer/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNanoCheckpoint, saveNanoCheckpoint } from './checkpoint.js';
import { createNanoEngine } from './factory.js';
import { createNanoModel } from './model.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const config = {
  vocab_size: 264,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  max_position_embeddings: 64,
};
const directories: string[] = [];
async function temporary(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'nano-checkpoint-'));
  directories.push(directory);
  return directory;
}
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function expectInvalid(
  promise: Promise<unknown>,
  field: string | undefined,
  message: RegExp,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ValidationError.isInstance(error)).toBe(true);
  const validation = error as ValidationError;
  expect(validation.code).toBe('CHECKPOINT_INVALID');
  expect(validation.field).toBe(field);
  expect(validation.message).toMatch(message);
}

describe('HF-format checkpoints', () => {
  it('round-trips every tensor bit for bit, with Qwen3 names, config and tokenizer files', async () => {
    const directory = await temporary();
    const model = createNanoModel(config, 5);
    const written = await saveNanoCheckpoint(model, directory);
    expect(written.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await readdir(directory)).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const hfConfig = JSON.parse(await readFile(join(directory, 'config.json'), 'utf8'));
    expect(hfConfig.model_type).toBe('qwen3');
    expect(hfConfig.architectures).toEqual(['Qwen3ForCausalLM']);
    const decoded = decodeSafetensors(await readFile(join(directory, 'model.safetensors')));
    expect(decoded.tensors.get('model.layers.1.self_attn.k_proj.weight')?.shape).toEqual([8, 16]);
    expect(decoded.tensors.has('lm_head.weight')).toBe(false);
    const loaded = await loadNanoCheckpoint(directory);
    expect(loaded.config).toEqual(model.config);
    for (const [name, data] of model.tensors)
      expect(Buffer.from(loaded.tensors.get(name)!.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    const engine = await createNanoEngine({ kind: 'nano', path: directory });
    expect((await engine.info()).modelHash).toBe(written.sha256);
  });

  it('rejects a missing tensor, a wrong shape, a wrong dtype and a truncated file, naming them', async () => {
    const directory = await temporary();
    const model = createNanoModel(config, 6);
    await saveNanoCheckpoint(model, directory);
    const weightsPath = join(directory, 'model.safetensors');
    const original = await readFile(weightsPath);
    const decoded = decodeSafetensors(original);
    const rewrite = async (
      mutate: (entries: Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>) => void,
    ) => {
      const entries = new Map(
        [...decoded.tensors].map(([name, entry]) => [
          name,
          { dtype: 'F32' as const, shape: [...entry.shape], data: entry.data! },
        ]),
      );
      mutate(entries);
      await writeFile(weightsPath, encodeSafetensors(entries));
    };
    await rewrite((entries) => entries.delete('model.layers.0.mlp.up_proj.weight'));
    await expectInvalid(loadNanoCheckpoint(directory), 'model.layers.0.mlp.up_proj.weight', /missing tensor/);
    await rewrite((entries) => {
      const entry = entries.get('model.norm.weight')!;
      entries.set('model.norm.weight', { dtype: 'F32', shape: [8, 2], data: entry.data });
    });
    await expectInvalid(loadNanoCheckpoint(directory), 'model.norm.weight', /shape \[8,2\] does not match/);
    // a BF16 tensor: patch the header's dtype string in place
    const text = original
      .toString('latin1')
      .replace('"model.norm.weight":{"dtype":"F32"', '"model.norm.weight":{"dtype":"F16"');
    await writeFile(weightsPath, Buffer.from(text, 'latin1'));
    await expectInvalid(loadNanoCheckpoint(directory), 'model.norm.weight', /dtype F16 is not supported/);
    await writeFile(weightsPath, original.subarray(0, original.length - 10));
    await expectInvalid(loadNanoCheckpoint(directory), 'model.norm.weight', /outside the data section/);
    await writeFile(weightsPath, original.subarray(0, 4));
    await expectInvalid(loadNanoCheckpoint(directory), undefined, /too short/);
  });

  it('rejects a config that is not Qwen3 or misses a field', async () => {
    const directory = await temporary();
    await saveNanoCheckpoint(createNanoModel(config, 7), directory);
    const path = join(directory, 'config.json');
    const hfConfig = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...hfConfig, model_type: 'llama' }));
    await expectInvalid(loadNanoCheckpoint(directory), 'model_type', /expected "qwen3"/);
    const { hidden_size: _, ...withoutHidden } = hfConfig;
    await writeFile(path, JSON.stringify(withoutHidden));
    const error = await loadNanoCheckpoint(directory).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error) && error.field).toBe('hidden_size');
  });

  it('never leaves temporary files behind', async () => {
    const directory = await temporary();
    await saveNanoCheckpoint(createNanoModel(config, 8), directory);
    await saveNanoCheckpoint(createNanoModel(config, 9), directory);
    expect((await readdir(directory)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});
