import type { BenchmarkGroup } from '@xfer/core';
import type { EvalRunRecord, Store } from '@xfer/store';
import { type EvalSummary, type ScoredSample, type SummarizeOptions, summarize } from './metrics.js';

export interface RunSummary {
  run: EvalRunRecord;
  summary: EvalSummary;
  /** Samples of the run without a verdict from the run's graders (not counted). */
  unscored: number;
}

/**
 * Summarise a stored run: each sample is scored by the verdict of the grader (and version) the run
 * recorded; groups come from the stored benchmarks. The bootstrap seed defaults to the run's seed.
 */
export function summarizeRun(store: Store, runId: string, options: SummarizeOptions = {}): RunSummary {
  const run = store.evalRuns.require(runId);
  const groups = new Map<string, BenchmarkGroup>();
  for (const benchmark of Object.keys(run.benchmarkHashes)) {
    const record = store.benchmarks.get(benchmark);
    if (record) groups.set(benchmark, record.group);
  }
  const scored: ScoredSample[] = [];
  let unscored = 0;
  for (const sample of store.samples.listRunSamples(runId)) {
    const verdict = sample.verdicts.find(
      (candidate) => run.scorerVersions[candidate.grader] === candidate.graderVersion,
    );
    if (!verdict) {
      unscored += 1;
      continue;
    }
    scored.push({
      benchmark: sample.benchmark,
      itemId: sample.itemId,
      sampleIndex: sample.sampleIndex,
      score: verdict.score,
      correct: verdict.correct,
      truncated: sample.finishReason === 'length',
      completionTokens: sample.completionTokens,
    });
  }
  return { run, summary: summarize(scored, groups, { seed: run.settings.seed, ...options }), unscored };
}

function percent(value: number): string {
  return Number.isNaN(value) ? '-' : (value * 100).toFixed(1);
}

const groupLabels: Record<BenchmarkGroup, string> = {
  math: 'math',
  other: 'other reasoning',
  non: 'non-reasoning',
};

/** A plain-text table of a run's scores (percent) with confidence intervals, benchmarks then groups. */
export function formatResultsTable(result: RunSummary): string {
  const { summary } = result;
  const level = Math.round(summary.bootstrap.level * 100);
  const header = ['benchmark', 'group', 'items', 'n', 'pass@1', `${level}% CI`, 'pass@k', 'trunc%'];
  const rows: string[][] = summary.benchmarks.map((benchmark) => {
    const ks = Object.keys(benchmark.passAtK).filter((key) => key !== 'pass@1');
    const last = ks[ks.length - 1];
    return [
      benchmark.benchmark,
      groupLabels[benchmark.group],
      String(benchmark.items),
      String(benchmark.samplesPerItem),
      percent(benchmark.pass1.value),
      `[${percent(benchmark.pass1.low)}, ${percent(benchmark.pass1.high)}]`,
      last ? `${last}=${percent(benchmark.passAtK[last]!)}` : '-',
      percent(benchmark.truncationRate),
    ];
  });
  for (const group of summary.groups) {
    rows.push([
      `[${groupLabels[group.group]}]`,
      `${group.benchmarks.length} benchmarks`,
      '',
      '',
      percent(group.pass1.value),
      `[${percent(group.pass1.low)}, ${percent(group.pass1.high)}]`,
      '',
      '',
    ]);
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
