import type { BenchmarkItem, EngineCallOptions, EngineV1, SamplingParamsInput } from '@xfer/core';
import { generateAll, SamplingParamsSchema } from '@xfer/core';
import type { GenerativeScorer } from '@xfer/eval';
import { deriveSeed } from '../loop/random.js';
import type { SftExample } from '../loop/types.js';

export interface RejectionSamplingOptions {
  /** The teacher (off-policy SFT: e.g. Qwen3-32B behind vLLM, or the nano-suite's programmatic teacher) or the policy itself (on-policy SFT). */
  engine: EngineV1;
  items: readonly BenchmarkItem[];
  /** The prompt the sampling engine sees (its own chat template; think or no-think). */
  renderSamplerPrompt(item: BenchmarkItem): string;
  /** The prompt the trained policy will see for this item in the dataset. */
  renderPolicyPrompt(item: BenchmarkItem): string;
  /** Verifier: the evaluation scorer module. */
  scorer: GenerativeScorer;
  samplesPerQuery: number;
  sampling?: SamplingParamsInput;
  seed: number;
  /** Keep at most this many accepted responses per query (default: all distinct accepted responses). */
  maxAcceptedPerQuery?: number;
  /** Requests per engine call. */
  chunkSize?: number;
  onProgress?: EngineCallOptions['onProgress'];
}

export interface QueryAcceptance {
  itemId: string;
  sampled: number;
  accepted: number;
}

export interface RejectionSampledData {
  examples: SftExample[];
  perQuery: QueryAcceptance[];
  sampled: number;
  accepted: number;
  acceptanceRate: number;
}

/**
 * Sample k responses per query and keep those the scorer verifies (the paper's rejection sampling), with the
 * acceptance rate per query and overall. Duplicated accepted responses to one query are kept once.
 */
export async function buildRejectionSampledData(
  options: RejectionSamplingOptions,
): Promise<RejectionSampledData> {
  const base = SamplingParamsSchema.parse(options.sampling ?? { temperature: 1 });
  const chunkSize = options.chunkSize ?? 64;
  const examples: SftExample[] = [];
  const perQuery: QueryAcceptance[] = [];
  const requests = options.items.flatMap((item) =>
    Array.from({ length: options.samplesPerQuery }, (_, sample) => ({
      id: `${item.id}\u0000${sample}`,
      prompt: options.renderSamplerPrompt(item),
      sampling: { ...base, seed: deriveSeed(options.seed, 'rejection', item.id, sample) },
    })),
  );
  const completions = new Map<string, { text: string; finishReason: string }>();
  for (let offset = 0; offset < requests.length; offset += chunkSize) {
    const chunk = requests.slice(offset, offset + chunkSize);
    for (const result of await generateAll(options.engine, chunk))
      completions.set(result.id, { text: result.text, finishReason: result.finishReason });
    options.onProgress?.({
      done: Math.min(offset + chunkSize, requests.length),
      total: requests.length,
      tokens: 0,
    });
  }
  for (const item of options.items) {
    const accepted = new Set<string>();
    for (let sample = 0; sample < options.samplesPerQuery; sample++) {
      const completion = completions.get(`${item.id}\u0000${sample}`)!;
      if (completion.finishReason !== 'stop') continue; // a truncated response is never a target
      const verdict = await options.scorer.score({ item, completion: completion.text, finishReason: 'stop' });
      if (verdict.correct) accepted.add(completion.text);
    }
    perQuery.push({ itemId: item.id, sampled: options.samplesPerQuery, accepted: accepted.size });
    const kept = [...accepted].slice(0, options.maxAcceptedPerQuery ?? accepted.size);
    for (const text of kept)
      examples.push({ itemId: item.id, prompt: options.renderPolicyPrompt(item), completion: text });
  }
  const sampled = perQuery.reduce((sum, q) => sum + q.sampled, 0);
  const acceptedCount = perQuery.reduce((sum, q) => sum + q.accepted, 0);
  return {
    examples,
    perQuery,
    sampled,
    accepted: acceptedCount,
    acceptanceRate: sampled === 0 ? 0 : acceptedCount / sampled,
  };
}
