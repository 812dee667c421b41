import { z } from 'zod';
import type { ModelRef } from '../model.js';
import type {
  GenerateRequest,
  GenerateResult,
  HiddenRequest,
  HiddenResult,
  ScoreRequest,
  ScoreResult,
} from '../requests.js';

export const EngineCapabilitySchema = z.enum(['generate', 'score', 'score-distribution', 'hidden', 'train']);
export type EngineCapability = z.infer<typeof EngineCapabilitySchema>;

/** What an engine serves, and the hashes that make results comparable across runs. */
export const EngineInfoSchema = z.object({
  engine: z.string(),
  model: z.string(),
  /** sha256 of the weights (or of the model id + revision where weights are remote). */
  modelHash: z.string(),
  /** sha256 of the tokenizer files, so a different tokenizer never silently shares cached samples. */
  tokenizerHash: z.string(),
  /** The Jinja chat template, when the model has one. */
  chatTemplate: z.string().optional(),
  chatTemplateHash: z.string().optional(),
  vocabSize: z.number().int().positive().optional(),
  numLayers: z.number().int().positive().optional(),
  hiddenSize: z.number().int().positive().optional(),
  maxContext: z.number().int().positive().optional(),
  capabilities: z.array(EngineCapabilitySchema),
});
export type EngineInfo = z.infer<typeof EngineInfoSchema>;

export interface EngineCallOptions {
  signal?: AbortSignal;
  /** Called with progress while a long call runs (tokens generated so far, requests finished). */
  onProgress?: (progress: { done: number; total: number; tokens: number }) => void;
}

/**
 * The inference seam. Implemented by `engine-nano` (in-process), `engine-torch` (Python worker) and
 * `engine-openai` (HTTP). An engine that cannot do something throws `EngineError` with code
 * `ENGINE_UNSUPPORTED`; it never falls back silently.
 */
export interface EngineV1 {
  readonly specificationVersion: 'v1';
  /** `nano`, `torch`, `openai`, `teacher`... */
  readonly engineId: string;
  info(): Promise<EngineInfo>;
  /**
   * Complete every request. Results are yielded as each finishes (not in request order); the same request
   * with the same seed gives the same text whatever else is in the batch.
   */
  generate(requests: readonly GenerateRequest[], options?: EngineCallOptions): AsyncIterable<GenerateResult>;
  score(requests: readonly ScoreRequest[], options?: EngineCallOptions): Promise<ScoreResult[]>;
  hidden(request: HiddenRequest, options?: EngineCallOptions): Promise<HiddenResult>;
  close(): Promise<void>;
}

/** Creates engines from model references; the CLI and server register one per engine package. */
export type EngineFactory = (ref: ModelRef) => Promise<EngineV1>;

/** Collect an engine's streamed results into an array, in request order. */
export async function generateAll(
  engine: EngineV1,
  requests: readonly GenerateRequest[],
  options?: EngineCallOptions,
): Promise<GenerateResult[]> {
  const byId = new Map<string, GenerateResult>();
  for await (const result of engine.generate(requests, options)) byId.set(result.id, result);
  return requests.map((request) => {
    const result = byId.get(request.id);
    if (!result) throw new Error(`engine ${engine.engineId} returned no result for request ${request.id}`);
    return result;
  });
}
