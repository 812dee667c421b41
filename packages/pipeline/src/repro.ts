import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  exactKlFromScores,
  klBarsSpec,
  type PcaShiftResult,
  paperHiddenRequest,
  pcaShift,
  pcaShiftSpec,
  renderSvg,
  type StoreTiResult,
  shiftedTokensSpec,
  storeTransferability,
  type TiPoint,
  type TokenShiftResult,
  tiScatterSpec,
  tokenShift,
  tracesFromScores,
  type VegaLiteSpec,
} from '@xfer/analysis';
import {
  type BenchmarkGroup,
  type EngineV1,
  HiddenRequestSchema,
  type HiddenResult,
  type ModelRef,
  type ScoreResult,
} from '@xfer/core';
import {
  type EvalBenchmark,
  getNanoTask,
  nanoSuiteBenchmarks,
  runEvaluation,
  summarizeRun,
} from '@xfer/eval';
import type { Store } from '@xfer/store';
import type { TrainingProgress } from '@xfer/train';
import type { PipelineEngines } from './engines.js';
import { trainRecipe } from './train-recipe.js';

export interface ReproOptions {
  store: Store;
  engines: PipelineEngines;
  base: { name: string; ref: ModelRef; directory: string };
  /** Recipes to compare (default: the paper's three). */
  recipes?: readonly string[];
  preset?: string;
  seed?: number;
  /** Items per nano task in evaluation (default 200). */
  evalItems?: number;
  /** Texts per benchmark for the PCA shift (default 100, the paper's K). */
  pcaTexts?: number;
  /** Tuned-model responses per benchmark for the token shift (default 100, the paper's). */
  tokenSamples?: number;
  /** Training config overrides applied to every recipe (e.g. `{ steps: 10 }` for a smoke run). */
  overrides?: Record<string, unknown>;
  itemsPerTask?: number;
  /** Where runs and the report go (default `.xfer`). */
  root?: string;
  onStage?: (stage: string) => void;
  onTrainingProgress?: (recipe: string, progress: TrainingProgress) => void;
  onEvalProgress?: (model: string, done: number, total: number, tokensPerSecond: number) => void;
}

export interface ReproModelResult {
  name: string;
  recipe: string | null;
  evalRunId: string;
  groups: Record<BenchmarkGroup, { value: number; low: number; high: number }>;
  benchmarks: Record<string, number>;
  ti?: { v1: StoreTiResult; v2: StoreTiResult };
  pca?: Record<string, PcaShiftResult>;
  tokens?: Record<string, TokenShiftResult & { exactKl: number }>;
  training?: { runId: string; steps: number; mathBefore: number; mathAfter: number; seconds: number };
}

export interface ReproResult {
  models: ReproModelResult[];
  reportPath: string;
  finding: { rlTransfers: boolean; sftForgets: boolean; statement: string };
  seconds: number;
}

const groupOrder: BenchmarkGroup[] = ['math', 'other', 'non'];

/** Texts for the PCA shift: dataset fields (prompt and reference answer), as the paper built them, not responses. */
function pcaTexts(benchmark: EvalBenchmark, count: number): string[] {
  const task = getNanoTask(benchmark.id);
  return benchmark.items.slice(0, count).map((item) => `${task.prompt(item)}  ${task.answer(item)}`);
}

async function evaluate(
  options: ReproOptions,
  engine: EngineV1,
  modelId: string,
  benchmarks: EvalBenchmark[],
  label: string,
  enableThinking = false,
) {
  const result = await runEvaluation({
    engine,
    store: options.store,
    modelId,
    benchmarks,
    batchSize: 32,
    settings: { seed: options.seed ?? 0, concurrency: 4, enableThinking },
    onProgress: (progress) =>
      options.onEvalProgress?.(label, progress.done, progress.total, progress.tokensPerSecond),
  });
  return result.runId;
}

function summary(store: Store, runId: string) {
  const run = summarizeRun(store, runId);
  const groups = Object.fromEntries(
    run.summary.groups.map((group) => [
      group.group,
      { value: group.pass1.value * 100, low: group.pass1.low * 100, high: group.pass1.high * 100 },
    ]),
  ) as ReproModelResult['groups'];
  const benchmarks = Object.fromEntries(
    run.summary.benchmarks.map((b) => [b.benchmark, b.pass1.value * 100]),
  );
  return { groups, benchmarks };
}

/**
 * The paper's controlled experiment, end to end: evaluate the base on the three groups; train each recipe
 * from it on math only; evaluate each tuned model on the same items and seeds; compute TI (v1 and v2, paired
 * bootstrap CIs), the latent PCA shift per benchmark and the token-distribution shift on each tuned model's
 * own responses; write a report with figures that says whether the paper's finding appeared.
 */
export async function runRepro(options: ReproOptions): Promise<ReproResult> {
  const started = performance.now();
  const { store, engines } = options;
  const root = resolve(options.root ?? '.xfer');
  const recipes = options.recipes ?? ['sft-think', 'sft-no-think', 'rl'];
  const benchmarks = nanoSuiteBenchmarks(['nano-suite'], { limit: options.evalItems ?? 200 });
  const stage = (text: string) => options.onStage?.(text);

  const baseModel =
    store.models.getByName(options.base.name) ??
    store.models.create({ name: options.base.name, ref: options.base.ref, method: 'base' });
  stage(`evaluating ${options.base.name} on the nano-suite`);
  const baseEngine = await engines.createEngine(options.base.directory);
  const baseRunId = await evaluate(options, baseEngine, baseModel.id, benchmarks, options.base.name);
  const models: ReproModelResult[] = [
    { name: options.base.name, recipe: null, evalRunId: baseRunId, ...summary(store, baseRunId) },
  ];

  const pcaCount = options.pcaTexts ?? 100;
  const hiddenBase = new Map<string, HiddenResult>();
  for (const benchmark of benchmarks) {
    hiddenBase.set(
      benchmark.id,
      await baseEngine.hidden(
        HiddenRequestSchema.parse(paperHiddenRequest(`${benchmark.id}/base`, pcaTexts(benchmark, pcaCount))),
      ),
    );
  }

  for (const recipe of recipes) {
    stage(`training ${recipe}`);
    const trained = await trainRecipe({
      store,
      engines,
      recipe,
      ...(options.preset ? { preset: options.preset } : {}),
      seed: options.seed ?? 0,
      base: options.base,
      root: join(root, 'runs'),
      ...(options.overrides ? { overrides: options.overrides } : {}),
      ...(options.itemsPerTask ? { itemsPerTask: options.itemsPerTask } : {}),
      evalItems: Math.min(100, options.evalItems ?? 100),
      onStage: stage,
      onProgress: (progress) => options.onTrainingProgress?.(recipe, progress),
    });
    stage(`evaluating ${trained.modelName} on the nano-suite`);
    const engine = await engines.createEngine(trained.directory);
    const runId = await evaluate(
      options,
      engine,
      trained.modelId,
      benchmarks,
      trained.modelName,
      trained.thinking,
    );
    const result: ReproModelResult = {
      name: trained.modelName,
      recipe,
      evalRunId: runId,
      ...summary(store, runId),
      training: {
        runId: trained.runId,
        steps: trained.steps,
        mathBefore: trained.mathBefore,
        mathAfter: trained.mathAfter,
        seconds: trained.seconds,
      },
    };
    const groupsOf = Object.fromEntries(benchmarks.map((b) => [b.id, b.group]));
    result.ti = {
      v1: storeTransferability(store, {
        modelRunId: runId,
        baseRunId,
        formula: 'v1',
        groups: groupsOf,
        seed: options.seed ?? 0,
        save: true,
      }),
      v2: storeTransferability(store, {
        modelRunId: runId,
        baseRunId,
        formula: 'v2',
        groups: groupsOf,
        seed: options.seed ?? 0,
        save: true,
      }),
    };

    stage(`latent PCA shift of ${trained.modelName}`);
    result.pca = {};
    for (const benchmark of benchmarks) {
      const tuned = await engine.hidden(
        HiddenRequestSchema.parse(paperHiddenRequest(`${benchmark.id}/tuned`, pcaTexts(benchmark, pcaCount))),
      );
      result.pca[benchmark.id] = pcaShift(hiddenBase.get(benchmark.id)!, tuned, { cka: true });
    }

    stage(`token-distribution shift of ${trained.modelName}`);
    result.tokens = {};
    const samples = store.samples.listRunSamples(runId);
    for (const benchmark of benchmarks.filter((b) => b.kind === 'generative')) {
      const own = samples
        .filter((s) => s.benchmark === benchmark.id && s.completion.length > 0)
        .slice(0, options.tokenSamples ?? 100);
      if (own.length === 0) continue;
      const requests = own.map((sample, index) => ({
        id: `${index}`,
        context: sample.prompt,
        continuation: sample.completion,
        fullDistribution: true,
      }));
      const tunedScores: ScoreResult[] = await engine.score(requests);
      const baseScores: ScoreResult[] = await baseEngine.score(requests);
      const shift = tokenShift(
        tracesFromScores(tunedScores, trained.modelName),
        tracesFromScores(baseScores, options.base.name),
      );
      result.tokens[benchmark.id] = { ...shift, exactKl: exactKlFromScores(tunedScores, baseScores).mean };
    }
    await engine.close();
    models.push(result);
  }
  await baseEngine.close();

  const finding = judge(models);
  stage('writing the report');
  const reportPath = await writeReport(root, models, finding, benchmarks);
  store.analyses.create({
    kind: 'report',
    inputs: { base: options.base.name, recipes: [...recipes], seed: options.seed ?? 0 },
    result: {
      path: reportPath,
      finding,
      models: models.map((m) => ({
        name: m.name,
        recipe: m.recipe,
        groups: m.groups,
        tiOther: m.ti?.v1.point.tiOther ?? null,
        tiNon: m.ti?.v1.point.tiNon ?? null,
      })),
    },
  });
  return { models, reportPath, finding, seconds: (performance.now() - started) / 1000 };
}

/**
 * Did the paper's qualitative finding appear? It has two halves, judged separately and with the
 * group-accuracy 95% intervals:
 * - SFT forgets: every SFT model's non-reasoning accuracy is below the base's (interval entirely below);
 * - RL transfers: RL gained on math (interval entirely above the base's) and its TI_non (v1) is above
 *   every SFT model's. TI is a ratio over the math gain: when a model did not gain on math, its TI is
 *   reported but not interpreted, and the statement says so.
 */
export function judge(models: readonly ReproModelResult[]): ReproResult['finding'] {
  const base = models[0]!;
  const tuned = models.slice(1);
  const rl = tuned.find((m) => m.recipe === 'rl');
  const sft = tuned.filter((m) => m.recipe?.startsWith('sft'));
  const change = (m: ReproModelResult, group: BenchmarkGroup) =>
    m.groups[group].value - base.groups[group].value;
  const below = (m: ReproModelResult, group: BenchmarkGroup) => m.groups[group].high < base.groups[group].low;
  const above = (m: ReproModelResult, group: BenchmarkGroup) => m.groups[group].low > base.groups[group].high;
  const sftForgets = sft.length > 0 && sft.every((m) => below(m, 'non'));
  const rlGained = rl !== undefined && above(rl, 'math');
  const rlTransfers =
    rl !== undefined &&
    rlGained &&
    (rl.ti?.v1.point.tiNon ?? Number.NEGATIVE_INFINITY) >
      Math.max(...sft.map((m) => m.ti?.v1.point.tiNon ?? Number.NEGATIVE_INFINITY));
  const gains = tuned.map((m) => `${m.recipe} ${signed(change(m, 'math'))}`).join(', ');
  const nonChanges = tuned.map((m) => `${m.recipe} ${signed(change(m, 'non'))}`).join(', ');
  const noGain = tuned.filter((m) => !above(m, 'math'));
  const parts = [
    `Math group change (points): ${gains}`,
    `non-reasoning change: ${nonChanges}`,
    sftNonVerdict(
      sft.map((m) => m.recipe ?? m.name),
      sft.filter((m) => below(m, 'non')).map((m) => m.recipe ?? m.name),
    ),
    rl
      ? rlTransfers
        ? `RL gained on math and transferred better than SFT (TI_non v1: RL ${fmt(rl.ti?.v1.point.tiNon)} vs SFT ${sft.map((m) => fmt(m.ti?.v1.point.tiNon)).join(', ')})`
        : `RL ${rlGained ? 'gained on math but did not transfer better than SFT' : 'did not gain on math'}`
      : 'no RL model',
  ];
  const caveat =
    noGain.length > 0
      ? ` ${noGain.map((m) => m.recipe).join(', ')} did not raise math beyond its interval, so the Transferability Index of ${noGain.length === 1 ? 'that model' : 'those models'} (a ratio over the math gain) is not interpretable.`
      : '';
  return {
    rlTransfers,
    sftForgets,
    statement: `${parts.join('; ')}.${caveat} The paper's finding (RL transfers, SFT forgets) ${rlTransfers && sftForgets ? 'appeared' : sftForgets ? 'appeared only in part (SFT forgets)' : 'did not appear'} in this run.`,
  };
}

/** Which SFT models lowered non-reasoning accuracy beyond the base's interval, in words. */
function sftNonVerdict(all: readonly string[], forgot: readonly string[]): string {
  if (all.length === 0) return 'no SFT model';
  if (forgot.length === all.length)
    return `SFT lowered non-reasoning accuracy (${all.length === 1 ? all[0] : `every SFT model: ${all.join(', ')}`}, below the base's interval)`;
  if (forgot.length === 0) return 'SFT did not clearly lower non-reasoning accuracy';
  const kept = all.filter((name) => !forgot.includes(name));
  return `${forgot.join(', ')} lowered non-reasoning accuracy below the base's interval, ${kept.join(', ')} did not`;
}

const fmt = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(1);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;

async function writeReport(
  root: string,
  models: readonly ReproModelResult[],
  finding: ReproResult['finding'],
  benchmarks: readonly EvalBenchmark[],
): Promise<string> {
  const directory = join(root, 'report');
  await mkdir(directory, { recursive: true });
  const tuned = models.slice(1);
  const lines: string[] = [
    '# xfer repro: does math training transfer?',
    '',
    `**Finding.** ${finding.statement}`,
    '',
    '## Accuracy by group (pass@1, %, 95% bootstrap CI)',
    '',
  ];
  lines.push('| model | recipe | math | other | non |', '|---|---|---|---|---|');
  for (const m of models) {
    lines.push(
      `| ${m.name} | ${m.recipe ?? 'base'} | ${groupOrder.map((g) => `${m.groups[g].value.toFixed(1)} [${m.groups[g].low.toFixed(1)}, ${m.groups[g].high.toFixed(1)}]`).join(' | ')} |`,
    );
  }
  lines.push(
    '',
    '## Per benchmark (pass@1, %)',
    '',
    `| benchmark | group | ${models.map((m) => m.name).join(' | ')} |`,
    `|---|---|${models.map(() => '---').join('|')}|`,
  );
  for (const b of benchmarks)
    lines.push(
      `| ${b.id} | ${b.group} | ${models.map((m) => (m.benchmarks[b.id] ?? Number.NaN).toFixed(1)).join(' | ')} |`,
    );
  lines.push(
    '',
    '## Transferability Index (paired bootstrap 95% CI)',
    '',
    '| model | formula | TI_other | TI_non |',
    '|---|---|---|---|',
  );
  for (const m of tuned) {
    for (const formula of ['v1', 'v2'] as const) {
      const ti = m.ti![formula];
      const cell = (i: typeof ti.tiOther) => `${fmt(i.estimate)} [${fmt(i.low)}, ${fmt(i.high)}]`;
      lines.push(`| ${m.name} | ${formula} | ${cell(ti.tiOther)} | ${cell(ti.tiNon)} |`);
    }
  }
  lines.push(
    '',
    "## Latent PCA shift d (the paper's centroid distance; mean over the group's benchmarks)",
    '',
    '| model | math | other | non |',
    '|---|---|---|---|',
  );
  for (const m of tuned) {
    const mean = (g: BenchmarkGroup) => {
      const values = benchmarks.filter((b) => b.group === g).map((b) => m.pca![b.id]!.distance);
      return values.reduce((s, v) => s + v, 0) / values.length;
    };
    lines.push(`| ${m.name} | ${groupOrder.map((g) => mean(g).toFixed(3)).join(' | ')} |`);
  }
  lines.push(
    '',
    "## Token-distribution shift on each tuned model's own responses",
    '',
    '| model | benchmark | KL (paper estimator) | exact KL | mean rank shift | shifted share |',
    '|---|---|---|---|---|---|',
  );
  for (const m of tuned) {
    for (const [benchmark, t] of Object.entries(m.tokens ?? {})) {
      lines.push(
        `| ${m.name} | ${benchmark} | ${t.paperKl.toFixed(4)} | ${t.exactKl.toFixed(4)} | ${t.meanRankShift.toFixed(3)} | ${t.shiftedShare.toFixed(3)} |`,
      );
    }
  }
  lines.push(
    '',
    '## Training',
    '',
    '| model | steps | math before | math after | seconds |',
    '|---|---|---|---|---|',
  );
  for (const m of tuned)
    if (m.training)
      lines.push(
        `| ${m.name} | ${m.training.steps} | ${m.training.mathBefore.toFixed(1)} | ${m.training.mathAfter.toFixed(1)} | ${m.training.seconds.toFixed(0)} |`,
      );

  const points: TiPoint[] = tuned.map((m) => ({
    model: m.name,
    method: m.recipe === 'rl' ? 'rl' : 'sft',
    base: models[0]!.name,
    tiOther: m.ti!.v1.point.tiOther,
    tiNon: m.ti!.v1.point.tiNon,
  }));
  const figures: [string, VegaLiteSpec][] = [
    ['ti-scatter.svg', tiScatterSpec(points, 'Transferability Index (v1)')],
  ];
  const firstNon = benchmarks.find((b) => b.group === 'non');
  if (firstNon)
    figures.push([
      'pca-shift.svg',
      pcaShiftSpec(tuned.map((m) => ({ label: m.name, result: m.pca![firstNon.id]! }))),
    ]);
  figures.push([
    'kl.svg',
    klBarsSpec(
      tuned.flatMap((m) =>
        Object.entries(m.tokens ?? {}).map(([benchmark, t]) => ({ benchmark, model: m.name, kl: t.exactKl })),
      ),
    ),
  ]);
  for (const m of tuned) {
    const all = Object.values(m.tokens ?? {}).flatMap((t) => t.topShiftedTokens);
    figures.push([
      `tokens-${m.recipe}.svg`,
      shiftedTokensSpec(
        all.sort((a, b) => b.shifted - a.shifted).slice(0, 20),
        `Most-shifted tokens: ${m.name}`,
      ),
    ]);
  }
  lines.push('', '## Figures', '');
  for (const [file, spec] of figures) {
    await writeFile(join(directory, file), await renderSvg(spec));
    lines.push(`![${file}](${file})`);
  }
  const path = join(directory, 'README.md');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}
