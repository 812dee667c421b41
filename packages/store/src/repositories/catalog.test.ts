import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../hash.js';
import { createTestStore, type TestStore } from '../testing.js';

let test: TestStore;
beforeEach(() => {
  test = createTestStore();
});
afterEach(() => test.cleanup());

describe('ExperimentRepository', () => {
  it('creates, finds by name, ensures, and refuses duplicate names', () => {
    const experiment = test.store.experiments.create({ name: 'math-transfer', config: { b: 2, a: 1 } });
    expect(test.store.experiments.getByName('math-transfer')).toEqual(experiment);
    expect(test.store.experiments.ensure('math-transfer').id).toBe(experiment.id);
    expect(test.store.experiments.ensure('other').name).toBe('other');
    expect(() => test.store.experiments.create({ name: 'math-transfer' })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => test.store.experiments.require('nope')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});

describe('ModelRepository', () => {
  it('records lineage and walks it both ways', () => {
    const models = test.store.models;
    const base = models.create({
      name: 'qwen3-base',
      ref: { kind: 'hf', id: 'Qwen/Qwen3-14B-Base' },
      method: 'base',
    });
    const sft = models.create({
      name: 'sft',
      ref: { kind: 'local', path: '/m/sft' },
      baseModelId: base.id,
      method: 'sft',
      recipe: 'sft-think',
    });
    const rl = models.create({
      name: 'sft-rl',
      ref: { kind: 'local', path: '/m/sft-rl' },
      baseModelId: sft.id,
      method: 'rl',
      recipe: 'grpo',
    });
    const other = models.create({
      name: 'rl',
      ref: { kind: 'local', path: '/m/rl' },
      baseModelId: base.id,
      method: 'rl',
    });
    expect(models.lineage(rl.id).map((model) => model.name)).toEqual(['sft-rl', 'sft', 'qwen3-base']);
    expect(
      models
        .descendants(base.id)
        .map((model) => model.name)
        .sort(),
    ).toEqual(['rl', 'sft', 'sft-rl']);
    expect(models.descendants(other.id)).toEqual([]);
    expect(models.get(sft.id)).toMatchObject({
      baseModelId: base.id,
      method: 'sft',
      recipe: 'sft-think',
      ref: { kind: 'local', path: '/m/sft' },
    });
    models.setModelHash(sft.id, 'hash-1');
    expect(models.require(sft.id).modelHash).toBe('hash-1');
    expect(() => models.lineage('ghost')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('refuses a missing base model, an unknown method and a malformed reference', () => {
    const models = test.store.models;
    expect(() =>
      models.create({ name: 'x', ref: { kind: 'nano', name: 'x' }, baseModelId: 'ghost', method: 'sft' }),
    ).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() =>
      models.create({ name: 'x', ref: { kind: 'nano', name: 'x' }, method: 'magic' as never }),
    ).toThrow(expect.objectContaining({ field: 'method' }));
    expect(() =>
      models.create({ name: 'x', ref: { kind: 'hf', id: 'not a hub id!' }, method: 'base' }),
    ).toThrow(expect.objectContaining({ field: 'ref.id' }));
    expect(models.list()).toEqual([]);
  });
});

describe('BenchmarkRepository', () => {
  it('registers and reports when the items changed', () => {
    const first = test.store.benchmarks.register({
      id: 'math500',
      version: '1',
      group: 'math',
      itemsHash: 'h1',
      itemCount: 500,
    });
    expect(first.changed).toBe(false);
    expect(
      test.store.benchmarks.register({
        id: 'math500',
        version: '1',
        group: 'math',
        itemsHash: 'h1',
        itemCount: 500,
      }).changed,
    ).toBe(false);
    const moved = test.store.benchmarks.register({
      id: 'math500',
      version: '2',
      group: 'math',
      itemsHash: 'h2',
      itemCount: 499,
    });
    expect(moved).toMatchObject({
      changed: true,
      benchmark: { version: '2', itemsHash: 'h2', itemCount: 499 },
    });
    expect(test.store.benchmarks.list()).toHaveLength(1);
    expect(() =>
      test.store.benchmarks.register({
        id: 'x',
        version: '1',
        group: 'misc' as never,
        itemsHash: 'h',
        itemCount: 1,
      }),
    ).toThrow(expect.objectContaining({ field: 'group' }));
  });
});

describe('DatasetRepository', () => {
  it('appends rows in order across calls and keeps provenance', () => {
    const datasets = test.store.datasets;
    const dataset = datasets.create({ name: 'sft-math', kind: 'sft', provenance: { teacher: 'qwen3-32b' } });
    expect(datasets.appendRows(dataset.id, [{ prompt: 'a' }, { prompt: 'b' }])).toBe(2);
    expect(datasets.appendRows(dataset.id, [{ prompt: 'c' }])).toBe(3);
    expect(datasets.listRows(dataset.id, { offset: 1 }).map((row) => [row.index, row.data.prompt])).toEqual([
      [1, 'b'],
      [2, 'c'],
    ]);
    const updated = datasets.setProvenance(dataset.id, { teacher: 'qwen3-32b', acceptanceRate: 0.42 });
    expect(updated).toMatchObject({ rowCount: 3, provenance: { acceptanceRate: 0.42 } });
    expect(() => datasets.appendRows('ghost', [{ prompt: 'x' }])).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(() => datasets.appendRows(dataset.id, [[1, 2] as never])).toThrow(
      expect.objectContaining({ field: 'rows[0]' }),
    );
    expect(datasets.require(dataset.id).rowCount).toBe(3);
  });
});

describe('AnalysisRepository and ArtifactRepository', () => {
  it('store analyses with inputs and results, and artifacts by content hash', () => {
    const analysis = test.store.analyses.create({
      kind: 'ti',
      inputs: { base: 'r1', tuned: 'r2' },
      result: { ti: { math: 12.5 } },
    });
    expect(test.store.analyses.require(analysis.id)).toEqual(analysis);
    expect(test.store.analyses.list({ kind: 'pca-shift' })).toEqual([]);
    expect(test.store.analyses.list({ kind: 'ti' })).toHaveLength(1);

    const digest = sha256('figure');
    const artifact = test.store.artifacts.record({
      path: 'reports/ti.svg',
      kind: 'figure',
      sha256: digest,
      bytes: 6,
      ownerId: analysis.id,
    });
    expect(test.store.artifacts.list({ ownerId: analysis.id })).toEqual([artifact]);
    expect(() =>
      test.store.artifacts.record({ path: 'x', kind: 'figure', sha256: 'short', bytes: 1 }),
    ).toThrow(expect.objectContaining({ field: 'sha256' }));
  });
});
