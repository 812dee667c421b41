import { XferError } from '@xfer/core';
import type { EvalRunRecord } from '@xfer/store';

/** One setting on which two runs disagree. */
export interface RunDifference {
  field: string;
  left: unknown;
  right: unknown;
}

/**
 * What differs between two runs beyond the model itself: chat template and tokenizer, decoding parameters
 * (max tokens, temperature...), samples per item, grader versions, benchmark items. Runs of a base and a
 * tuned model legitimately differ in `modelHash`, so it is not compared.
 */
export function runDifferences(left: EvalRunRecord, right: EvalRunRecord): RunDifference[] {
  const differences: RunDifference[] = [];
  const check = (field: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push({ field, left: a, right: b });
  };
  check('chatTemplateHash', left.chatTemplateHash, right.chatTemplateHash);
  check('samplingHash', left.samplingHash, right.samplingHash);
  for (const grader of new Set([...Object.keys(left.scorerVersions), ...Object.keys(right.scorerVersions)])) {
    const a = left.scorerVersions[grader];
    const b = right.scorerVersions[grader];
    if (a !== undefined && b !== undefined) check(`scorerVersions.${grader}`, a, b);
  }
  for (const benchmark of Object.keys(left.benchmarkHashes)) {
    const b = right.benchmarkHashes[benchmark];
    if (b !== undefined) check(`benchmarkHashes.${benchmark}`, left.benchmarkHashes[benchmark], b);
  }
  check('settings.samples', left.settings.samples, right.settings.samples);
  check('settings.enableThinking', left.settings.enableThinking, right.settings.enableThinking);
  check('settings.limit', left.settings.limit, right.settings.limit);
  return differences;
}

export interface ComparabilityOptions {
  /** Compare anyway: differences are reported through `onWarning` instead of thrown. */
  force?: boolean;
  onWarning?: (message: string, differences: RunDifference[]) => void;
}

/**
 * Check that `runs` may be compared (or fed to the TI): every run against the first. Differences warn;
 * without `force` they throw `XferError` `INCOMPARABLE_RUNS` listing them.
 */
export function assertComparable(
  runs: readonly EvalRunRecord[],
  options: ComparabilityOptions = {},
): RunDifference[] {
  const [first, ...rest] = runs;
  if (!first) return [];
  const all: RunDifference[] = [];
  for (const run of rest) {
    const differences = runDifferences(first, run);
    if (differences.length === 0) continue;
    all.push(...differences);
    const message = `runs ${first.id} and ${run.id} differ in ${differences.map((d) => d.field).join(', ')}`;
    options.onWarning?.(message, differences);
    if (!options.force) {
      throw new XferError({
        code: 'INCOMPARABLE_RUNS',
        message: `${message}; results would not be comparable (force to compare anyway)`,
        data: { runs: [first.id, run.id], differences },
      });
    }
  }
  return all;
}
