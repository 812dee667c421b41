/** The small architecture engine-nano's unit tests train and decode with (2 blocks, grouped heads). */
export const testConfig = {
  vocab_size: 264,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  max_position_embeddings: 64,
};
