import { createHash } from 'node:crypto';
import {
  type BenchmarkItem,
  type ChatMessage,
  canonicalJson,
  type EngineInfo,
  type EvalSettings,
  type SamplingParams,
  SamplingParamsSchema,
} from '@xfer/core';
import { sampleSeed } from './seeds.js';
import type { EvalBenchmark, PromptRenderer } from './types.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One request of a run: what to send, and the hash that identifies its result forever. */
export interface PlannedRequest {
  requestHash: string;
  benchmark: EvalBenchmark;
  item: BenchmarkItem;
  sampleIndex: number;
  seed: number;
  prompt: string;
  messages: ChatMessage[];
  /** Decoding parameters (generative benchmarks). */
  sampling: SamplingParams;
  /** Log-likelihood benchmarks: the continuations scored, one per choice. */
  continuations: string[];
}

/** The hashes a run records; two runs compare only when the ones that are not about the model agree. */
export interface RunHashes {
  modelHash: string;
  chatTemplateHash: string;
  samplingHash: string;
  scorerVersions: Record<string, string>;
  benchmarkHashes: Record<string, string>;
}

/** Plain rendering for models without a chat template: the message contents, blank-line separated. */
export const plainRenderer: PromptRenderer = {
  sha256: 'none',
  render: (messages) => messages.map((message) => message.content).join('\n\n'),
};

/** The decoding parameters of a benchmark under `settings` (settings win over benchmark defaults). */
export function benchmarkSampling(benchmark: EvalBenchmark, settings: EvalSettings): SamplingParams {
  return SamplingParamsSchema.parse({ ...benchmark.sampling, ...settings.sampling, seed: 0 });
}

/**
 * Samples per item for a benchmark: log-likelihood items are deterministic (1); otherwise the settings'
 * count when `fixedSamples`, else the benchmark's protocol count, else the settings' (default 1).
 */
export function samplesFor(benchmark: EvalBenchmark, settings: EvalSettings, fixedSamples = true): number {
  if (benchmark.kind === 'loglikelihood') return 1;
  return fixedSamples ? settings.samples : (benchmark.samples ?? settings.samples);
}

/** sha256 of a benchmark's items as evaluated (with its version). */
export function benchmarkItemsHash(benchmark: EvalBenchmark): string {
  return sha256(canonicalJson({ version: benchmark.version, items: benchmark.items }));
}

/** The comparability hashes of a run of `benchmarks` on a model described by `info`. */
export function runHashes(
  info: EngineInfo,
  renderer: PromptRenderer,
  benchmarks: readonly EvalBenchmark[],
  settings: EvalSettings,
  fixedSamples = true,
): RunHashes {
  const scorerVersions: Record<string, string> = {};
  const benchmarkHashes: Record<string, string> = {};
  const sampling: Record<string, unknown> = {};
  for (const benchmark of benchmarks) {
    scorerVersions[benchmark.scorer.name] = benchmark.scorer.version;
    benchmarkHashes[benchmark.id] = benchmarkItemsHash(benchmark);
    sampling[benchmark.id] =
      benchmark.kind === 'loglikelihood'
        ? 'loglikelihood'
        : {
            ...benchmarkSampling(benchmark, settings),
            seed: undefined,
            samples: samplesFor(benchmark, settings, fixedSamples),
          };
  }
  return {
    modelHash: info.modelHash,
    chatTemplateHash: sha256(
      canonicalJson({
        template: renderer.sha256,
        tokenizer: info.tokenizerHash,
        enableThinking: settings.enableThinking,
      }),
    ),
    samplingHash: sha256(canonicalJson({ sampling, limit: settings.limit })),
    scorerVersions,
    benchmarkHashes,
  };
}

/**
 * Every request of a run, in a stable order (benchmark, item, sample). The request hash covers everything
 * that moves a result: model, tokenizer and chat-template hashes, the prompt, the decoding parameters with
 * the per-sample seed, the sample index, the benchmark id and version, the item, and the scorer version.
 * Log-likelihood items are deterministic: one request each whatever `samples` says.
 */
export function planRequests(
  info: EngineInfo,
  renderer: PromptRenderer,
  benchmarks: readonly EvalBenchmark[],
  settings: EvalSettings,
  fixedSamples = true,
): PlannedRequest[] {
  const planned: PlannedRequest[] = [];
  for (const benchmark of benchmarks) {
    const items = settings.limit === undefined ? benchmark.items : benchmark.items.slice(0, settings.limit);
    const base = benchmarkSampling(benchmark, settings);
    const samples = samplesFor(benchmark, settings, fixedSamples);
    for (const item of items) {
      const messages = benchmark.messages(item);
      // Log-likelihood scoring leaves no room to think: its answer follows a closed think block (Qwen3's
      // `enable_thinking=false` form) whatever the run's setting.
      const prompt = renderer.render(messages, {
        enableThinking: settings.enableThinking && benchmark.kind !== 'loglikelihood',
      });
      const continuations =
        benchmark.kind === 'loglikelihood' ? (benchmark.continuations?.(item) ?? item.choices ?? []) : [];
      for (let sampleIndex = 0; sampleIndex < samples; sampleIndex++) {
        const seed =
          benchmark.kind === 'loglikelihood'
            ? 0
            : sampleSeed(settings.seed, benchmark.id, item.id, sampleIndex);
        const sampling = { ...base, seed };
        const requestHash = sha256(
          canonicalJson({
            v: 1,
            kind: benchmark.kind,
            modelHash: info.modelHash,
            tokenizerHash: info.tokenizerHash,
            chatTemplate: renderer.sha256,
            prompt,
            ...(benchmark.kind === 'loglikelihood' ? { continuations } : { sampling }),
            sampleIndex,
            benchmark: benchmark.id,
            benchmarkVersion: benchmark.version,
            itemId: item.id,
            scorer: { name: benchmark.scorer.name, version: benchmark.scorer.version },
          }),
        );
        planned.push({
          requestHash,
          benchmark,
          item,
          sampleIndex,
          seed,
          prompt,
          messages,
          sampling,
          continuations,
        });
      }
    }
  }
  return planned;
}
