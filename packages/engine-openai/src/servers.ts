/** The OpenAI-compatible servers engine-openai knows the quirks of. `openai` = anything else. */
export type ServerKind = 'vllm' | 'sglang' | 'llama.cpp' | 'ollama' | 'xfer' | 'openai';

/** How a server returns the logprobs of prompt tokens (what log-likelihood benchmarks need). */
export type PromptLogprobsMode = 'prompt-logprobs' | 'echo' | 'none';

export interface ServerProfile {
  kind: ServerKind;
  /**
   * - `prompt-logprobs`: vLLM's extension `prompt_logprobs: k` on /v1/completions (exact ranks);
   * - `echo`: legacy OpenAI `echo: true` + `logprobs: k` on /v1/completions (SGLang, xfer serve-model,
   *   vLLM too): `tokens`, `token_logprobs`, `top_logprobs`, `text_offset` over prompt + completion;
   * - `none`: no prompt logprobs (llama.cpp server, Ollama): `score` throws `ENGINE_UNSUPPORTED`.
   */
  promptLogprobs: PromptLogprobsMode;
  /** Accepts `top_k` (a non-OpenAI sampling field). */
  topK: boolean;
}

const profiles: Record<ServerKind, ServerProfile> = {
  vllm: { kind: 'vllm', promptLogprobs: 'prompt-logprobs', topK: true },
  sglang: { kind: 'sglang', promptLogprobs: 'echo', topK: true },
  'llama.cpp': { kind: 'llama.cpp', promptLogprobs: 'none', topK: true },
  ollama: { kind: 'ollama', promptLogprobs: 'none', topK: false },
  xfer: { kind: 'xfer', promptLogprobs: 'echo', topK: true },
  openai: { kind: 'openai', promptLogprobs: 'echo', topK: false },
};

export function serverProfile(kind: ServerKind): ServerProfile {
  return profiles[kind];
}

/**
 * Guess the server from `/v1/models`' `owned_by`: vLLM says `vllm`, SGLang `sglang`, llama.cpp
 * `llamacpp`, Ollama `library` (or the namespace of the model), xfer serve-model `xfer`.
 */
export function detectServerKind(ownedBy: string | undefined): ServerKind {
  switch ((ownedBy ?? '').toLowerCase()) {
    case 'vllm':
      return 'vllm';
    case 'sglang':
      return 'sglang';
    case 'llamacpp':
    case 'llama.cpp':
      return 'llama.cpp';
    case 'library':
    case 'ollama':
      return 'ollama';
    case 'xfer':
      return 'xfer';
    default:
      return 'openai';
  }
}
