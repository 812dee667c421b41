import type { NanoConfigInput } from './config.js';

/**
 * The tiny architecture xfer's tests train, decode and serve with (2 blocks of width 32, grouped heads):
 * fast enough for a unit test, and every code path of the full model (GQA, q/k norms, RoPE, SwiGLU).
 * `maxPositions` is the longest sequence the test needs.
 */
export function tinyNanoConfig(maxPositions = 512): NanoConfigInput {
  return {
    vocab_size: 264,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    max_position_embeddings: maxPositions,
  };
}
