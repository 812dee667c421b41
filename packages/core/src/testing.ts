import { EngineError } from './errors/index.js';
import type {
  GenerateRequest,
  GenerateResult,
  HiddenRequest,
  HiddenResult,
  ScoreRequest,
  ScoreResult,
} from './requests.js';
import type { EngineInfo, EngineV1 } from './v1/engine.js';

export interface MockEngineOptions {
  /** Produce the completion text for a request. */
  respond?: (
    request: GenerateRequest,
  ) => string | { text: string; finishReason?: GenerateResult['finishReason'] };
  /** Produce per-token logprobs for a score request (one entry per continuation character by default). */
  score?: (request: ScoreRequest) => Omit<ScoreResult, 'id'>;
  info?: Partial<EngineInfo>;
}

/**
 * A fake engine behind the core `EngineV1` interface, for tests of code that consumes engines (runners,
 * drivers, servers). It records every call. It is never used to make a real-model test pass.
 */
export class MockEngine implements EngineV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'mock';
  readonly calls: { method: 'generate' | 'score' | 'hidden'; ids: string[] }[] = [];
  private readonly options: MockEngineOptions;

  constructor(options: MockEngineOptions = {}) {
    this.options = options;
  }

  async info(): Promise<EngineInfo> {
    return {
      engine: 'mock',
      model: 'mock',
      modelHash: '0'.repeat(64),
      tokenizerHash: '0'.repeat(64),
      capabilities: ['generate', 'score'],
      ...this.options.info,
    };
  }

  async *generate(requests: readonly GenerateRequest[]): AsyncIterable<GenerateResult> {
    this.calls.push({ method: 'generate', ids: requests.map((r) => r.id) });
    for (const request of requests) {
      const started = Date.now();
      const answer = this.options.respond?.(request) ?? '';
      const { text, finishReason } =
        typeof answer === 'string' ? { text: answer, finishReason: undefined } : answer;
      yield {
        id: request.id,
        text,
        finishReason: finishReason ?? 'stop',
        promptTokens: request.prompt.length,
        completionTokens: text.length,
        latencyMs: Date.now() - started,
      };
    }
  }

  async score(requests: readonly ScoreRequest[]): Promise<ScoreResult[]> {
    this.calls.push({ method: 'score', ids: requests.map((r) => r.id) });
    const scorer = this.options.score;
    if (!scorer)
      throw new EngineError({
        engine: 'mock',
        code: 'ENGINE_UNSUPPORTED',
        message: 'score is not configured',
      });
    return requests.map((request) => ({ id: request.id, ...scorer(request) }));
  }

  async hidden(request: HiddenRequest): Promise<HiddenResult> {
    this.calls.push({ method: 'hidden', ids: [request.id] });
    throw new EngineError({
      engine: 'mock',
      code: 'ENGINE_UNSUPPORTED',
      message: 'hidden states are not available',
    });
  }

  async close(): Promise<void> {}
}
