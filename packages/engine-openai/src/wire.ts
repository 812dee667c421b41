import { z } from 'zod';

/**
 * Response shapes of the OpenAI-compatible servers we talk to, parsed loosely (`looseObject`): servers add
 * fields freely (vLLM `stop_reason`, `prompt_logprobs`; llama.cpp `timings`; SGLang `matched_stop`), and we
 * only require what we read.
 */
export const UsageWireSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative().optional(),
  completion_tokens: z.number().int().nonnegative().optional(),
});

/** Legacy completions logprobs: parallel arrays; the first echoed prompt token has a `null` logprob. */
export const CompletionLogprobsWireSchema = z.looseObject({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
  text_offset: z.array(z.number().int()).optional(),
});

/** vLLM's `prompt_logprobs`: per prompt position, `{ tokenId: { logprob, rank, decoded_token } }`, first null. */
export const PromptLogprobsWireSchema = z.array(
  z
    .record(
      z.string(),
      z.looseObject({
        logprob: z.number(),
        rank: z.number().int().nullable().optional(),
        decoded_token: z.string().nullable().optional(),
      }),
    )
    .nullable(),
);

export const CompletionResponseWireSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        text: z.string(),
        finish_reason: z.string().nullable().optional(),
        logprobs: CompletionLogprobsWireSchema.nullable().optional(),
        prompt_logprobs: PromptLogprobsWireSchema.nullable().optional(),
      }),
    )
    .min(1),
  usage: UsageWireSchema.nullable().optional(),
});
export type CompletionResponseWire = z.infer<typeof CompletionResponseWireSchema>;

export const ChatResponseWireSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({
          content: z.string().nullable().optional(),
          /** vLLM/SGLang reasoning parsers split the thinking out of `content`. */
          reasoning_content: z.string().nullable().optional(),
        }),
        finish_reason: z.string().nullable().optional(),
        logprobs: z
          .looseObject({
            content: z
              .array(z.looseObject({ token: z.string(), logprob: z.number() }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
  usage: UsageWireSchema.nullable().optional(),
});
export type ChatResponseWire = z.infer<typeof ChatResponseWireSchema>;

export const ModelsResponseWireSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string(),
      owned_by: z.string().optional(),
      root: z.string().nullable().optional(),
      max_model_len: z.number().int().positive().optional(),
      /** xfer serve-model's extension: the hashes of the served checkpoint. */
      xfer: z
        .looseObject({
          modelHash: z.string(),
          tokenizerHash: z.string(),
          chatTemplateHash: z.string().optional(),
          /** The Jinja source, so that clients render prompts exactly as the server would. */
          chatTemplate: z.string().optional(),
          maxContext: z.number().int().positive().optional(),
        })
        .optional(),
    }),
  ),
});
export type ModelsResponseWire = z.infer<typeof ModelsResponseWireSchema>;
