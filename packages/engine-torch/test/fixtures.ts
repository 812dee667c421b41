import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNanoModel, type NanoModel, saveNanoCheckpoint } from '@xfer/engine-nano';

/** A small nano architecture: fast on CPU in both engines. */
export const tinyConfig = {
  vocab_size: 264,
  hidden_size: 48,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 256,
  tie_word_embeddings: true as const,
};

/**
 * A nano model whose weights are scaled up from the N(0, 0.02²) init so that its distributions are far
 * from uniform (no near-ties for greedy decoding), saved by engine-nano's own checkpoint writer.
 */
export async function writeNanoCheckpoint(
  seed = 3,
): Promise<{ directory: string; model: NanoModel; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'xfer-torch-test-'));
  const model = createNanoModel(tinyConfig, seed);
  for (const [name, data] of model.tensors) {
    if (name.endsWith('norm.weight')) continue;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * 12;
  }
  const directory = path.join(root, 'tiny');
  await saveNanoCheckpoint(model, directory);
  return { directory, model, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export const workerEnv = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
