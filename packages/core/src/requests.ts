import { z } from 'zod';
import { FinishReasonSchema, SamplingParamsSchema } from './sampling.js';

/** A chat message, rendered through the model's own chat template by whoever builds prompts. */
export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/**
 * One completion request. `prompt` is the fully rendered text (chat template already applied) so that
 * every engine sees exactly the same characters; `messages` is kept for chat APIs that render server-side.
 */
export const GenerateRequestSchema = z.object({
  id: z.string().min(1),
  prompt: z.string(),
  messages: z.array(ChatMessageSchema).optional(),
  sampling: SamplingParamsSchema,
});
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;
export type GenerateRequestInput = z.input<typeof GenerateRequestSchema>;

export const GenerateResultSchema = z.object({
  id: z.string(),
  text: z.string(),
  finishReason: FinishReasonSchema,
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Token ids of the completion, where the engine exposes them (needed by trainers). */
  tokenIds: z.array(z.number().int()).optional(),
  /** Logprob of each sampled token (natural log), when `sampling.logprobs` was set. */
  logprobs: z.array(z.number()).optional(),
  latencyMs: z.number().nonnegative(),
});
export type GenerateResult = z.infer<typeof GenerateResultSchema>;

/**
 * Score a continuation given a context: per-token logprob and rank (1 = argmax) of each continuation token.
 * `fullDistribution` asks for the next-token log-distribution at every continuation position (exact KL).
 */
export const ScoreRequestSchema = z.object({
  id: z.string().min(1),
  context: z.string(),
  continuation: z.string(),
  fullDistribution: z.boolean().default(false),
});
export type ScoreRequest = z.infer<typeof ScoreRequestSchema>;
export type ScoreRequestInput = z.input<typeof ScoreRequestSchema>;

export const ScoreResultSchema = z.object({
  id: z.string(),
  /** Token ids of the continuation as the model tokenised it. */
  tokenIds: z.array(z.number().int()),
  /** Decoded text of each continuation token. */
  tokens: z.array(z.string()),
  logprobs: z.array(z.number()),
  ranks: z.array(z.number().int().positive()),
  /** Whether each continuation token was the greedy choice (lm-eval `is_greedy`). */
  isGreedy: z.array(z.boolean()),
  /** Log-probabilities over the whole vocabulary, one row per continuation token, when requested. */
  distributions: z.array(z.array(z.number())).optional(),
  /** Exact KL(model ‖ reference) at each continuation position, when an engine was asked for it. */
  kl: z.array(z.number()).optional(),
});
export type ScoreResult = z.infer<typeof ScoreResultSchema>;

/**
 * Hidden states of a batch of texts, as `transformers`' `output_hidden_states`: the embedding output and
 * the output of every block (layers = blocks + 1), pooled over positions.
 * - `mean`: mean over real tokens only;
 * - `mean-with-padding`: the paper's released code, which left-pads to the longest text in the batch and
 *   averages over every position including padding.
 */
export const HiddenRequestSchema = z.object({
  id: z.string().min(1),
  texts: z.array(z.string()).min(1),
  maxLength: z.number().int().positive().default(128),
  pooling: z.enum(['mean', 'mean-with-padding', 'last']).default('mean'),
  /** Texts per forward pass; with `mean-with-padding` it decides how much padding each text sees. */
  batchSize: z.number().int().positive().default(16),
});
export type HiddenRequest = z.infer<typeof HiddenRequestSchema>;
export type HiddenRequestInput = z.input<typeof HiddenRequestSchema>;

/** `layers[l]` is a row-major `[texts, hiddenSize]` matrix for hidden state l (0 = embeddings). */
export interface HiddenResult {
  id: string;
  hiddenSize: number;
  numTexts: number;
  layers: Float32Array[];
  /** Tokens used per text after truncation. */
  tokenCounts: number[];
}

export const TokenUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof TokenUsageSchema>;
