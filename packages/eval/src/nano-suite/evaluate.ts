import {
  type BenchmarkGroup,
  type BenchmarkItem,
  benchmarkGroupLabels,
  type EngineV1,
  type GenerateRequest,
  generateAll,
  type ScoreRequestInput,
  ScoreRequestSchema,
  type Verdict,
} from '@xfer/core';
import { rendererFor } from '../runner/run-evaluation.js';
import type { PromptRenderer } from '../runner/types.js';
import { nanoSuiteBenchmarks } from './benchmarks.js';
import { getNanoTask } from './suite.js';

export interface EvaluateNanoSuiteOptions {
  /** Items per task (default 200). */
  limit?: number;
  /** Tasks to run (ids or `nano-suite`; default all twelve). */
  tasks?: readonly string[];
  /** Render prompts with `enable_thinking` (default false, the paper's). */
  enableThinking?: boolean;
  /** Generation budget override (default: each task's own; reasoning models need more). */
  maxTokens?: number;
  /** Requests per engine call (default 64). */
  batchSize?: number;
  /** Prompt renderer (default: the engine's chat template). */
  renderer?: PromptRenderer;
  onProgress?: (progress: { task: string; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** Accuracy of one task with its Wilson 95% interval. */
export interface NanoTaskResult {
  task: string;
  group: BenchmarkGroup;
  mirrors: string;
  n: number;
  correct: number;
  accuracy: number;
  /** Wilson score interval at 95%. */
  low: number;
  high: number;
  /** What a blind answer scores: the larger label's share for Yes/No tasks (`chanceOf`), else uniform. */
  chance: number;
  /** Secondary metric where the task has one (F1 for extractive QA, acc_norm for log-likelihood). */
  secondary?: { name: string; value: number };
}

export interface NanoSuiteResult {
  tasks: NanoTaskResult[];
  /** Group accuracy: the plain mean of its tasks' accuracies (as the paper's group averages). */
  groups: Record<BenchmarkGroup, number>;
  seconds: number;
  verdicts: Record<string, Verdict[]>;
}

/**
 * What answering blindly scores on these items: for a two-label task (Yes/No, no/yes) the share of the more
 * frequent label, since one constant answer earns it; otherwise the task's uniform-guess chance.
 */
export function chanceOf(uniform: number, items: readonly BenchmarkItem[]): number {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(String(item.target), (counts.get(String(item.target)) ?? 0) + 1);
  if (uniform !== 0.5 || counts.size !== 2) return uniform;
  return Math.max(uniform, Math.max(...counts.values()) / items.length);
}

/** Wilson score interval for `correct` out of `n` at 95%. */
export function wilsonInterval(correct: number, n: number, z = 1.959964): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = correct / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const margin = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - margin), high: Math.min(1, centre + margin) };
}

/**
 * Evaluate an engine on the nano-suite in-process (no store): greedy generation for generative tasks,
 * log-likelihood of each choice for the others, scored by each task's verifier. The same items, prompts,
 * decoding and scorers as the runner's `nano-*` benchmarks.
 */
export async function evaluateNanoSuite(
  engine: EngineV1,
  options: EvaluateNanoSuiteOptions = {},
): Promise<NanoSuiteResult> {
  const started = performance.now();
  const renderer = options.renderer ?? (await rendererFor(engine));
  const enableThinking = options.enableThinking ?? false;
  const batchSize = options.batchSize ?? 64;
  const benchmarks = nanoSuiteBenchmarks(
    options.tasks ?? ['nano-suite'],
    options.limit === undefined ? {} : { limit: options.limit },
  );
  const results: NanoTaskResult[] = [];
  const verdicts: Record<string, Verdict[]> = {};
  for (const benchmark of benchmarks) {
    const task = getNanoTask(benchmark.id);
    const items = benchmark.items;
    const taskVerdicts: Verdict[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      if (options.signal?.aborted) throw options.signal.reason;
      const batch = items.slice(start, start + batchSize);
      // As the runner: log-likelihood answers follow a closed think block whatever `enableThinking` says.
      const thinking = enableThinking && benchmark.scorer.kind === 'generative';
      const prompts = batch.map((item) =>
        renderer.render(benchmark.messages(item), { enableThinking: thinking }),
      );
      if (benchmark.scorer.kind === 'generative') {
        const scorer = benchmark.scorer;
        const requests: GenerateRequest[] = batch.map((item, index) => ({
          id: item.id,
          prompt: prompts[index]!,
          sampling: {
            temperature: 0,
            topP: 1,
            topK: -1,
            maxTokens: options.maxTokens ?? task.maxTokens,
            stop: [],
            seed: 0,
            logprobs: false,
          },
        }));
        const outputs = await generateAll(engine, requests, options.signal ? { signal: options.signal } : {});
        for (const [index, item] of batch.entries()) {
          const output = outputs[index]!;
          taskVerdicts.push(
            await scorer.score({ item, completion: output.text, finishReason: output.finishReason }),
          );
        }
      } else {
        const scorer = benchmark.scorer;
        const requests: ScoreRequestInput[] = batch.flatMap((item, index) =>
          (item.choices ?? []).map((choice, choiceIndex) => ({
            id: `${item.id}#${choiceIndex}`,
            context: prompts[index]!,
            continuation: choice,
          })),
        );
        const scored = await engine.score(
          requests.map((request) => ScoreRequestSchema.parse(request)),
          options.signal ? { signal: options.signal } : {},
        );
        let cursor = 0;
        for (const item of batch) {
          const count = item.choices?.length ?? 0;
          taskVerdicts.push(scorer.score({ item, choices: scored.slice(cursor, cursor + count) }));
          cursor += count;
        }
      }
      options.onProgress?.({
        task: task.id,
        done: Math.min(start + batchSize, items.length),
        total: items.length,
      });
    }
    const correct = taskVerdicts.filter((verdict) => verdict.correct).length;
    const interval = wilsonInterval(correct, taskVerdicts.length);
    const secondary = secondaryMetric(taskVerdicts);
    results.push({
      task: task.id,
      group: task.group,
      mirrors: task.mirrors,
      n: taskVerdicts.length,
      correct,
      accuracy: taskVerdicts.length === 0 ? 0 : correct / taskVerdicts.length,
      ...interval,
      chance: chanceOf(task.chance, items),
      ...(secondary ? { secondary } : {}),
    });
    verdicts[task.id] = taskVerdicts;
  }
  const groups = {} as Record<BenchmarkGroup, number>;
  for (const group of ['math', 'other', 'non'] as const) {
    const members = results.filter((result) => result.group === group);
    groups[group] =
      members.length === 0
        ? Number.NaN
        : members.reduce((total, result) => total + result.accuracy, 0) / members.length;
  }
  return { tasks: results, groups, seconds: (performance.now() - started) / 1000, verdicts };
}

function secondaryMetric(verdicts: readonly Verdict[]): NanoTaskResult['secondary'] {
  if (verdicts.length === 0) return undefined;
  if (verdicts.every((verdict) => typeof verdict.details.f1 === 'number')) {
    return {
      name: 'f1',
      value: verdicts.reduce((total, verdict) => total + (verdict.details.f1 as number), 0) / verdicts.length,
    };
  }
  if (verdicts.every((verdict) => typeof verdict.details.accNorm === 'boolean')) {
    return {
      name: 'acc_norm',
      value: verdicts.filter((verdict) => verdict.details.accNorm === true).length / verdicts.length,
    };
  }
  return undefined;
}

const percent = (value: number) => (value * 100).toFixed(1);

/** The result as a plain-text table, one block per group, with 95% intervals and group means. */
export function formatNanoSuiteTable(result: NanoSuiteResult): string {
  const lines: string[] = [];
  for (const group of ['math', 'other', 'non'] as const) {
    const members = result.tasks.filter((task) => task.group === group);
    if (members.length === 0) continue;
    lines.push(`${benchmarkGroupLabels[group]} (mean ${percent(result.groups[group])}%)`);
    for (const task of members) {
      const secondary = task.secondary ? `  ${task.secondary.name} ${percent(task.secondary.value)}%` : '';
      lines.push(
        `  ${task.task.padEnd(16)} ${percent(task.accuracy).padStart(5)}%  [${percent(task.low)}, ${percent(task.high)}]  n=${task.n}  chance ${percent(task.chance)}%  (${task.mirrors})${secondary}`,
      );
    }
  }
  lines.push(`seconds=${result.seconds.toFixed(1)}`);
  return lines.join('\n');
}
