import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNanoEngine,
  createNanoModel,
  loadNanoCheckpoint,
  NanoTrainer,
  saveNanoCheckpoint,
} from '@xfer/engine-nano';
import { tinyNanoConfig } from '@xfer/engine-nano/testing';
import { NanoTeacherEngine } from '@xfer/eval';
import { openStore } from '@xfer/store';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipelineEngines } from './engines.js';
import { runRepro } from './repro.js';

const directories: string[] = [];
afterAll(async () => Promise.all(directories.map((d) => rm(d, { recursive: true, force: true }))));

const engines: PipelineEngines = {
  createEngine: (directory) => createNanoEngine(directory),
  createTrainer: async (directory, options) =>
    new NanoTrainer(await loadNanoCheckpoint(directory), { optimizer: options.optimizer }),
  createTeacher: async (mode) => new NanoTeacherEngine({ mode }),
};

describe('runRepro (smoke, tiny random base)', () => {
  it('evaluates, trains each recipe, analyses, stores everything and writes a report', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xfer-repro-'));
    directories.push(root);
    const baseDirectory = join(root, 'base');
    await saveNanoCheckpoint(createNanoModel(tinyNanoConfig(512), 1), baseDirectory);
    const store = openStore(join(root, 'xfer.db'));
    try {
      const stages: string[] = [];
      const result = await runRepro({
        store,
        engines,
        base: { name: 'tiny-base', ref: { kind: 'nano', path: baseDirectory }, directory: baseDirectory },
        recipes: ['sft-no-think', 'rl'],
        preset: 'tiny',
        seed: 0,
        evalItems: 3,
        pcaTexts: 3,
        tokenSamples: 2,
        itemsPerTask: 4,
        overrides: { steps: 2, maxSequenceLength: 256, evalEvery: 1 },
        root,
        onStage: (stage) => stages.push(stage),
      });
      expect(result.models.map((m) => m.recipe)).toEqual([null, 'sft-no-think', 'rl']);
      for (const model of result.models.slice(1)) {
        expect(model.ti?.v1.point.formula).toBe('v1');
        expect(Object.keys(model.pca ?? {})).toHaveLength(12);
        expect(
          Object.values(model.tokens ?? {}).every((t) => Number.isFinite(t.exactKl) && t.exactKl >= 0),
        ).toBe(true);
        expect(model.training?.steps).toBe(2);
        // Periodic evaluation: the math group before training, after step 1 and after the last step,
        // and the reported math_after is the last of them.
        const curve = store.training.listMetrics(model.training!.runId, 'eval/math_accuracy');
        expect(curve.map((point) => point.step)).toEqual([0, 1, 2]);
        expect(curve.at(-1)?.value).toBe(model.training?.mathAfter);
      }
      const report = await readFile(result.reportPath, 'utf8');
      expect(report).toContain('## Transferability Index');
      expect(report).toContain(result.finding.statement);
      for (const figure of ['ti-scatter.svg', 'pca-shift.svg', 'kl.svg']) {
        expect(existsSync(join(root, 'report', figure))).toBe(true);
      }
      // Everything is in the store: three models with lineage, two training runs, four eval runs' samples.
      expect(store.models.list()).toHaveLength(3);
      expect(store.training.listRuns().every((run) => run.status === 'completed')).toBe(true);
      expect(store.analyses.list({ kind: 'report' })).toHaveLength(1);
      expect(stages[0]).toMatch(/evaluating tiny-base/);
      expect(stages).toContain('evaluating step 1 on the math group');
    } finally {
      store.close();
    }
  }, 300_000);
});
