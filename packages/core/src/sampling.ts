import { z } from 'zod';

/** Decoding settings. `temperature: 0` means greedy. Seeds are per request so batching never moves a result. */
export const SamplingParamsSchema = z.object({
  temperature: z.number().min(0).max(10).default(0),
  topP: z.number().gt(0).max(1).default(1),
  /** 0 or -1 disables top-k. */
  topK: z.number().int().min(-1).default(-1),
  maxTokens: z.number().int().positive().default(256),
  stop: z.array(z.string().min(1)).default([]),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(0),
  /** Return the logprob of each sampled token. */
  logprobs: z.boolean().default(false),
});
export type SamplingParams = z.infer<typeof SamplingParamsSchema>;
export type SamplingParamsInput = z.input<typeof SamplingParamsSchema>;

export const FinishReasonSchema = z.enum(['stop', 'length', 'error', 'cancelled']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;
