import { z } from 'zod';
import { errorCodes } from '../errors/xfer-error.js';
import { ModelRefSchema } from '../model.js';
import {
  GenerateRequestSchema,
  GenerateResultSchema,
  HiddenRequestSchema,
  ScoreRequestSchema,
  ScoreResultSchema,
} from '../requests.js';
import { EngineCapabilitySchema } from './engine.js';
import { OptimizerConfigSchema, PolicyLossSchema, TrainSequenceSchema } from './trainer.js';

/**
 * The worker protocol, version 1: one JSON object per line (NDJSON) on the worker's stdin (requests) and
 * stdout (replies), split on the byte `\n` before decoding. Every frame carries `v: 1` and an `id`.
 * Tensors and checkpoints travel by file path (`TensorRef`), never inline.
 */
export const PROTOCOL_VERSION = 1 as const;

const frame = { v: z.literal(PROTOCOL_VERSION), id: z.string().min(1) };

/** A tensor written to disk by one side for the other: raw little-endian values, row-major. */
export const TensorRefSchema = z.object({
  path: z.string().min(1),
  dtype: z.enum(['float32', 'int32']),
  shape: z.array(z.number().int().nonnegative()),
});
export type TensorRef = z.infer<typeof TensorRefSchema>;

export const InitParamsSchema = z.object({
  model: ModelRefSchema,
  /** A frozen reference model for KL (trainer only). */
  reference: ModelRefSchema.optional(),
  /** Load an optimizer and accept training frames. */
  train: z.boolean().default(false),
  optimizer: OptimizerConfigSchema.optional(),
  dtype: z.enum(['float32', 'bfloat16', 'float16']).default('float32'),
  device: z.string().default('auto'),
  seed: z.number().int().nonnegative().default(0),
  /** Directory the worker may write tensors into. */
  scratchDir: z.string().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});

export const RequestFrameSchema = z.discriminatedUnion('type', [
  z.object({ ...frame, type: z.literal('init'), params: InitParamsSchema }),
  z.object({
    ...frame,
    type: z.literal('generate'),
    params: z.object({ requests: z.array(GenerateRequestSchema) }),
  }),
  z.object({
    ...frame,
    type: z.literal('score'),
    params: z.object({
      requests: z.array(ScoreRequestSchema),
      model: z.enum(['policy', 'reference']).default('policy'),
      /** Also return the exact per-token KL(scored model ‖ reference) over the whole vocabulary. */
      klAgainst: z.enum(['reference']).optional(),
    }),
  }),
  z.object({ ...frame, type: z.literal('hidden'), params: HiddenRequestSchema }),
  z.object({ ...frame, type: z.literal('tokenize'), params: z.object({ texts: z.array(z.string()) }) }),
  z.object({
    ...frame,
    type: z.literal('detokenize'),
    params: z.object({ tokenIds: z.array(z.array(z.number().int())) }),
  }),
  z.object({
    ...frame,
    type: z.literal('logprobs'),
    params: z.object({ sequences: z.array(TrainSequenceSchema), model: z.enum(['policy', 'reference']) }),
  }),
  z.object({
    ...frame,
    type: z.literal('forward-backward'),
    params: z.object({
      sequences: z.array(TrainSequenceSchema),
      loss: PolicyLossSchema,
      scale: z.number().positive().default(1),
    }),
  }),
  z.object({
    ...frame,
    type: z.literal('optimizer-step'),
    params: z.object({ learningRate: z.number().nonnegative(), gradClip: z.number().positive().optional() }),
  }),
  z.object({ ...frame, type: z.literal('snapshot-reference'), params: z.object({}).default({}) }),
  z.object({
    ...frame,
    type: z.literal('save'),
    params: z.object({ directory: z.string().min(1), optimizer: z.boolean().default(false) }),
  }),
  z.object({
    ...frame,
    type: z.literal('load'),
    params: z.object({ directory: z.string().min(1), optimizer: z.boolean().default(false) }),
  }),
  z.object({ ...frame, type: z.literal('cancel'), params: z.object({ target: z.string().min(1) }) }),
  z.object({ ...frame, type: z.literal('shutdown'), params: z.object({}).default({}) }),
]);
export type RequestFrame = z.infer<typeof RequestFrameSchema>;
export type RequestFrameInput = z.input<typeof RequestFrameSchema>;
export type RequestType = RequestFrame['type'];

export const WireErrorSchema = z.object({
  code: z.enum(errorCodes).or(z.string()),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type WireError = z.infer<typeof WireErrorSchema>;

export const ReadyFrameSchema = z.object({
  ...frame,
  type: z.literal('ready'),
  protocolVersion: z.literal(PROTOCOL_VERSION),
  capabilities: z.array(EngineCapabilitySchema.or(z.string())),
  device: z.string(),
  pid: z.number().int(),
  versions: z.record(z.string(), z.string()).default({}),
});

export const ResponseFrameSchema = z.discriminatedUnion('type', [
  ReadyFrameSchema,
  z.object({ ...frame, type: z.literal('result'), data: z.unknown() }),
  z.object({
    ...frame,
    type: z.literal('progress'),
    done: z.number().nonnegative(),
    total: z.number().nonnegative(),
    tokens: z.number().nonnegative().default(0),
    message: z.string().optional(),
  }),
  z.object({ ...frame, type: z.literal('error'), error: WireErrorSchema }),
  z.object({
    ...frame,
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
  }),
]);
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;

/** Typed result payloads for each request type (validated by the TypeScript side on receipt). */
export const ResultSchemas = {
  init: z.object({ info: z.record(z.string(), z.unknown()) }),
  generate: z.object({ results: z.array(GenerateResultSchema) }),
  score: z.object({ results: z.array(ScoreResultSchema) }),
  hidden: z.object({
    hiddenSize: z.number().int().positive(),
    numTexts: z.number().int().positive(),
    layers: z.array(TensorRefSchema),
    tokenCounts: z.array(z.number().int()),
  }),
  tokenize: z.object({ tokenIds: z.array(z.array(z.number().int())) }),
  detokenize: z.object({ texts: z.array(z.string()) }),
  logprobs: z.object({ logprobs: z.array(z.array(z.number())) }),
  'forward-backward': z.object({
    loss: z.number(),
    tokens: z.number().int(),
    clipFraction: z.number(),
    kl: z.number(),
    entropy: z.number().optional(),
    logprobs: z.array(z.array(z.number())),
  }),
  'optimizer-step': z.object({ gradNorm: z.number(), learningRate: z.number(), step: z.number().int() }),
  'snapshot-reference': z.object({}).passthrough(),
  save: z.object({ path: z.string(), sha256: z.string(), bytes: z.number().int() }),
  load: z.object({}).passthrough(),
  cancel: z.object({ cancelled: z.boolean() }),
  shutdown: z.object({}).passthrough(),
} as const satisfies Record<RequestType, z.ZodType>;

/** JSON Schemas of both directions, for the Python worker (`workers/torch/xfer_worker/protocol.schema.json`). */
export function protocolJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'xfer worker protocol v1',
    version: PROTOCOL_VERSION,
    request: z.toJSONSchema(RequestFrameSchema, { io: 'input', unrepresentable: 'any' }),
    response: z.toJSONSchema(ResponseFrameSchema, { io: 'output', unrepresentable: 'any' }),
  };
}
