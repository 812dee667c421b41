import { createHash } from 'node:crypto';
import {
  canonicalJson,
  EngineError,
  type EngineV1,
  type EvalSettings,
  EvalSettingsSchema,
  type GenerateRequest,
  parseWith,
  type ScoreRequest,
  type ScoreResult,
  ValidationError,
  type Verdict,
  VerdictSchema,
  XferError,
} from '@xfer/core';
import type { SampleInput, Store } from '@xfer/store';
import { createChatTemplate } from '../chat/chat-template.js';
import { type PlannedRequest, plainRenderer, planRequests, type RunHashes, runHashes } from './plan.js';
import { ProgressTracker } from './progress.js';
import { type RunSummary, summarizeRun } from './results.js';
import type { EvalBenchmark, EvalProgress, EvalSettingsInput, PromptRenderer } from './types.js';

export interface RunEvaluationOptions {
  engine: EngineV1;
  store: Store;
  /** The stored model being evaluated (`store.models`); the run references it. */
  modelId: string;
  benchmarks: readonly EvalBenchmark[];
  settings?: EvalSettingsInput;
  /** How prompts are rendered; default: the engine's chat template, or plain text when it has none. */
  renderer?: PromptRenderer;
  /** Requests per `engine.generate` call (engines that batch, like nano, like more). Default 1. */
  batchSize?: number;
  /** Run id; default derived from the model and settings hashes, so that rerunning a command resumes it. */
  runId?: string;
  experimentId?: string;
  onProgress?: (progress: EvalProgress) => void;
  /** Minimum interval between stored `progress` events (ms, default 1000). */
  eventIntervalMs?: number;
  signal?: AbortSignal;
}

export interface RunEvaluationResult {
  runId: string;
  /** Whether this call resumed a run that already existed. */
  resumed: boolean;
  total: number;
  /** Requests found in the store and not sent again. */
  cached: number;
  /** Requests sent to the engine by this call. */
  sent: number;
  hashes: RunHashes;
  summary: RunSummary;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A request id that a person can read in an error: `benchmark/item#sample`. */
function readableId(planned: PlannedRequest): string {
  return `${planned.benchmark.id}/${planned.item.id}#${planned.sampleIndex}`;
}

/** A log-likelihood sample's completion: the per-choice token logprobs, enough to re-score it. */
function encodeChoices(results: readonly ScoreResult[]): string {
  return canonicalJson({
    choices: results.map((result) => ({
      tokens: result.tokens,
      tokenIds: result.tokenIds,
      logprobs: result.logprobs,
      ranks: result.ranks,
      isGreedy: result.isGreedy,
    })),
  });
}

function decodeChoices(completion: string, where: string): ScoreResult[] {
  try {
    const parsed = JSON.parse(completion) as { choices: Omit<ScoreResult, 'id'>[] };
    return parsed.choices.map((choice, index) => ({ id: `${where}/choice${index}`, ...choice }));
  } catch (cause) {
    throw new ValidationError({
      field: 'completion',
      message: `sample ${where}: stored choices are not JSON`,
      cause,
    });
  }
}

async function scoreGenerative(
  planned: PlannedRequest,
  completion: string,
  finishReason: SampleInput['finishReason'],
) {
  const scorer = planned.benchmark.scorer;
  if (scorer.kind !== 'generative')
    throw new Error(`benchmark ${planned.benchmark.id} is generative but its scorer is not`);
  return parseWith(VerdictSchema, await scorer.score({ item: planned.item, completion, finishReason }), {
    field: `verdict(${readableId(planned)})`,
  });
}

function scoreLoglikelihood(planned: PlannedRequest, choices: readonly ScoreResult[]): Verdict {
  const scorer = planned.benchmark.scorer;
  if (scorer.kind !== 'loglikelihood')
    throw new Error(`benchmark ${planned.benchmark.id} is log-likelihood but its scorer is not`);
  return parseWith(VerdictSchema, scorer.score({ item: planned.item, choices }), {
    field: `verdict(${readableId(planned)})`,
  });
}

/** The prompt renderer of an engine: its chat template, or plain text. */
export async function rendererFor(engine: EngineV1): Promise<PromptRenderer> {
  const info = await engine.info();
  if (!info.chatTemplate) return plainRenderer;
  const template = createChatTemplate(info.chatTemplate);
  return {
    sha256: template.sha256,
    render: (messages, options) => template.render(messages, { enableThinking: options.enableThinking }),
  };
}

/**
 * Evaluate one model on benchmarks. Builds every request, skips those already in the store (a request is
 * never sent twice, across runs and crashes), sends the rest with bounded concurrency, scores each result
 * as it arrives and stores it at once (one short transaction per sample, never across an `await`), and
 * summarises the run from the store. Progress goes to `onProgress` and to the store's run events.
 *
 * A failure (an engine past its retry budget, a cancel) stops sending new requests, lets the ones in
 * flight land and be stored, marks the run `failed` and rethrows: rerunning resumes where it stopped.
 */
export async function runEvaluation(options: RunEvaluationOptions): Promise<RunEvaluationResult> {
  const { engine, store } = options;
  const settings: EvalSettings = parseWith(
    EvalSettingsSchema,
    { benchmarks: options.benchmarks.map((benchmark) => benchmark.id), ...options.settings },
    { field: 'settings' },
  );
  const benchmarks = options.benchmarks.filter((benchmark) => settings.benchmarks.includes(benchmark.id));
  if (benchmarks.length === 0)
    throw new ValidationError({ field: 'settings.benchmarks', message: 'no benchmark to evaluate' });
  const info = await engine.info();
  const renderer = options.renderer ?? (await rendererFor(engine));
  const fixedSamples = options.settings?.samples !== undefined;
  const hashes = runHashes(info, renderer, benchmarks, settings, fixedSamples);
  const runId =
    options.runId ??
    `eval-${sha256(canonicalJson({ modelId: options.modelId, hashes, seed: settings.seed, limit: settings.limit })).slice(0, 16)}`;

  for (const benchmark of benchmarks) {
    store.benchmarks.register({
      id: benchmark.id,
      version: benchmark.version,
      group: benchmark.group,
      itemsHash: hashes.benchmarkHashes[benchmark.id]!,
      itemCount: benchmark.items.length,
      source: benchmark.source ?? '',
    });
  }
  const existingRun = store.evalRuns.get(runId);
  if (!existingRun) {
    store.evalRuns.create({
      id: runId,
      modelId: options.modelId,
      ...(options.experimentId === undefined ? {} : { experimentId: options.experimentId }),
      settings,
      ...hashes,
      status: 'running',
    });
  } else {
    store.evalRuns.setStatus(runId, 'running');
  }

  const plan = planRequests(info, renderer, benchmarks, settings, fixedSamples);
  const found = store.samples.findSamplesByHashes(plan.map((planned) => planned.requestHash));
  store.samples.attachSamples(runId, [...found.keys()]);
  // Samples stored without this scorer's verdict (a scorer that failed before a crash) are scored now.
  const rescored: { requestHash: string; verdict: Verdict }[] = [];
  for (const planned of plan) {
    const sample = found.get(planned.requestHash);
    if (!sample) continue;
    const scorer = planned.benchmark.scorer;
    if (
      sample.verdicts.some(
        (verdict) => verdict.grader === scorer.name && verdict.graderVersion === scorer.version,
      )
    )
      continue;
    const verdict =
      planned.benchmark.kind === 'loglikelihood'
        ? scoreLoglikelihood(planned, decodeChoices(sample.completion, readableId(planned)))
        : await scoreGenerative(planned, sample.completion, sample.finishReason);
    rescored.push({ requestHash: planned.requestHash, verdict });
  }
  if (rescored.length > 0) store.samples.recordVerdicts(rescored);

  const pending = plan.filter((planned) => !found.has(planned.requestHash));
  const tracker = new ProgressTracker(runId, plan, found);
  const intervalMs = options.eventIntervalMs ?? 1000;
  let lastEvent = 0;
  const report = (force: boolean) => {
    const progress = tracker.snapshot();
    options.onProgress?.(progress);
    const now = Date.now();
    if (force || now - lastEvent >= intervalMs) {
      lastEvent = now;
      store.events.append(runId, 'progress', { ...progress });
    }
  };
  store.events.append(runId, existingRun ? 'resumed' : 'started', {
    total: plan.length,
    cached: found.size,
    pending: pending.length,
    settings,
    hashes: { ...hashes },
  });
  report(true);

  const storeSample = (
    planned: PlannedRequest,
    sample: Omit<
      SampleInput,
      'requestHash' | 'runId' | 'benchmark' | 'itemId' | 'sampleIndex' | 'seed' | 'prompt'
    >,
  ) => {
    store.samples.insertSamples([
      {
        requestHash: planned.requestHash,
        runId,
        benchmark: planned.benchmark.id,
        itemId: planned.item.id,
        sampleIndex: planned.sampleIndex,
        seed: planned.seed,
        prompt: planned.prompt,
        ...sample,
      },
    ]);
  };

  const batchSize = Math.max(1, options.batchSize ?? 1);
  let next = 0;
  let stopped = false;
  let failure: unknown;
  const takeBatch = (): PlannedRequest[] => {
    const batch: PlannedRequest[] = [];
    while (!stopped && !options.signal?.aborted && next < pending.length && batch.length < batchSize) {
      const candidate = pending[next]!;
      if (batch.length > 0 && candidate.benchmark.kind !== batch[0]!.benchmark.kind) break;
      batch.push(candidate);
      next += 1;
    }
    return batch;
  };

  const runGenerative = async (batch: PlannedRequest[]) => {
    const byId = new Map(batch.map((planned) => [readableId(planned), planned]));
    const requests: GenerateRequest[] = batch.map((planned) => ({
      id: readableId(planned),
      prompt: planned.prompt,
      messages: planned.messages,
      sampling: planned.sampling,
    }));
    tracker.sent(batch.length);
    for await (const result of engine.generate(requests, options.signal ? { signal: options.signal } : {})) {
      const planned = byId.get(result.id);
      if (!planned)
        throw new XferError({
          code: 'INVALID_MODEL_OUTPUT',
          message: `engine returned an unknown request id ${result.id}`,
        });
      byId.delete(result.id);
      // A cancelled or failed generation is not a sample: storing it would cache it forever.
      if (result.finishReason === 'cancelled') continue;
      if (result.finishReason === 'error') {
        throw new EngineError({
          engine: engine.engineId,
          requestId: result.id,
          message: 'the engine reported an error for this request',
        });
      }
      const sample = {
        completion: result.text,
        finishReason: result.finishReason,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        latencyMs: result.latencyMs,
      };
      let verdict: Verdict;
      try {
        verdict = await scoreGenerative(planned, result.text, result.finishReason);
      } catch (error) {
        storeSample(planned, sample); // keep the completion; the verdict is computed on resume
        throw error;
      }
      storeSample(planned, { ...sample, verdicts: [verdict] });
      tracker.finished(planned, result.completionTokens, result.finishReason === 'length');
      report(false);
    }
    if (byId.size > 0 && !options.signal?.aborted) {
      throw new XferError({
        code: 'INVALID_MODEL_OUTPUT',
        message: `engine returned no result for ${[...byId.keys()].join(', ')}`,
      });
    }
  };

  const runLoglikelihood = async (batch: PlannedRequest[]) => {
    const requests: ScoreRequest[] = [];
    for (const planned of batch) {
      const choices = planned.continuations;
      if (choices.length === 0) {
        throw new ValidationError({
          field: `${planned.benchmark.id}.items[${planned.item.id}].choices`,
          message: 'a log-likelihood item needs choices',
        });
      }
      choices.forEach((choice, index) => {
        requests.push({
          id: `${readableId(planned)}/choice${index}`,
          context: planned.prompt,
          continuation: choice,
          fullDistribution: false,
        });
      });
    }
    tracker.sent(batch.length);
    const started = performance.now();
    const results = await engine.score(requests, options.signal ? { signal: options.signal } : {});
    const latencyMs = (performance.now() - started) / batch.length;
    const byId = new Map(results.map((result) => [result.id, result]));
    for (const planned of batch) {
      const choices = planned.continuations.map((_, index) => {
        const result = byId.get(`${readableId(planned)}/choice${index}`);
        if (!result)
          throw new XferError({
            code: 'INVALID_MODEL_OUTPUT',
            message: `engine returned no score for ${readableId(planned)} choice ${index}`,
          });
        return result;
      });
      const tokens = choices.reduce((sum, choice) => sum + choice.tokenIds.length, 0);
      const verdict = scoreLoglikelihood(planned, choices);
      storeSample(planned, {
        completion: encodeChoices(choices),
        finishReason: 'stop',
        promptTokens: 0,
        completionTokens: tokens,
        latencyMs,
        verdicts: [verdict],
      });
      tracker.finished(planned, tokens, false);
      report(false);
    }
  };

  const slot = async () => {
    while (true) {
      const batch = takeBatch();
      if (batch.length === 0) return;
      try {
        if (batch[0]!.benchmark.kind === 'loglikelihood') await runLoglikelihood(batch);
        else await runGenerative(batch);
      } catch (error) {
        if (failure === undefined) failure = error;
        stopped = true;
        return;
      }
    }
  };
  const concurrency = Math.max(1, settings.concurrency);
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, pending.length)) }, slot));
  const unfinished = plan.length - tracker.snapshot().done;
  if (failure === undefined && unfinished > 0) {
    failure = options.signal?.aborted
      ? new XferError({
          code: 'CANCELLED',
          message: `evaluation ${runId} cancelled (${unfinished} requests left)`,
        })
      : new EngineError({
          engine: engine.engineId,
          message: `${unfinished} requests of ${runId} came back cancelled by the engine`,
        });
  }
  report(true);

  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    const cancelled = XferError.hasCode(failure, 'CANCELLED') || options.signal?.aborted === true;
    store.evalRuns.setStatus(runId, cancelled ? 'cancelled' : 'failed', { error: message });
    store.events.append(runId, 'failed', {
      error: message,
      ...(XferError.isInstance(failure) ? { code: failure.code } : {}),
    });
    throw failure;
  }
  const summary = summarizeRun(store, runId);
  store.evalRuns.setStatus(runId, 'completed');
  store.events.append(runId, 'completed', {
    benchmarks: summary.summary.benchmarks.map((benchmark) => ({
      benchmark: benchmark.benchmark,
      pass1: benchmark.pass1.value,
    })),
  });
  const snapshot = tracker.snapshot();
  return {
    runId,
    resumed: existingRun !== undefined,
    total: plan.length,
    cached: found.size,
    sent: snapshot.sent,
    hashes,
    summary,
  };
}
