import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, sha256 } from '@xfer/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runXfer } from '../../test/run-xfer.js';

const xfer = runXfer;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'xfer-cli-ti-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/** PAPER.md §3.6 Table 1. */
const paperTable = `model,base,method,aime24,aime25,math-500,olympiadbench,gpqa-diamond,livecodebench,acpbench,headqa,coqa,mc-taco,ifeval,halueval
Qwen3-14B-Base,,base,13.0,9.3,60.4,27.9,42.6,29.7,10.7,37.6,10.0,67.7,69.2,35.7
UniReason-SFT-think,Qwen3-14B-Base,sft,52.0,37.0,85.0,25.0,55.9,21.9,68.6,34.8,1.7,38.2,42.3,2.3
UniReason-RL,Qwen3-14B-Base,rl,55.7,38.0,87.8,33.8,57.7,40.6,65.4,40.2,28.2,74.0,70.0,40.7
`;

describe('xfer ti', () => {
  it('prints ΔR per group and TI per model from a score table, for both formulas', async () => {
    const file = join(directory, 'scores.csv');
    writeFileSync(file, paperTable);
    const v1 = await xfer(['ti', '--scores', file, '--formula', 'v1']);
    expect(v1.code).toBe(0);
    const rl = v1.stdout.split('\n').find((line) => line.startsWith('UniReason-RL'))!;
    // v1 RL: ΔR_math 175.89 %, ΔR_other 147.57 %, ΔR_non 51.62 %; TI 83.90 / 29.35 (hand arithmetic in ti.test.ts)
    expect(rl.split(/\s+/)).toEqual([
      'UniReason-RL',
      'Qwen3-14B-Base',
      '175.89',
      '147.57',
      '51.62',
      '83.90',
      '29.35',
    ]);
    const svg = join(directory, 'ti.svg');
    const figure = await xfer(['ti', '--scores', file, '--formula', 'v2', '--svg', svg]);
    expect(figure.stdout.trim().split('\n').at(-1)).toBe(`figure=${svg}`);
    const drawn = readFileSync(svg, 'utf8');
    expect(drawn).toContain('Transferability Index (v2)');
    expect(drawn.match(/tuning: rl; model: UniReason-RL/g)).toHaveLength(2);
    const v2 = await xfer(['ti', '--scores', file, '--formula', 'v2', '--json']);
    const results = JSON.parse(v2.stdout) as { model: string; tiOther: number; tiNon: number }[];
    expect(results.map((result) => result.model)).toEqual(['UniReason-SFT-think', 'UniReason-RL']);
    expect(results[1]!.tiOther).toBeCloseTo(70.981, 2);
    expect(results[0]!.tiNon).toBeCloseTo(-148.451, 2);
  });

  it('takes groups for unknown benchmarks from a #group row or --groups, and names bad cells', async () => {
    const file = join(directory, 'custom.csv');
    writeFileSync(
      file,
      'model,base,my-math,my-other,my-non\n#group,,math,other,\nb,,20,40,50\nt,b,30,50,45\n',
    );
    const missing = await xfer(['ti', '--scores', file]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${file}, line 1, field 'my-non'`);
    const ok = await xfer(['ti', '--scores', file, '--formula', 'v1', '--groups', '{"my-non":"non"}']);
    expect(ok.code).toBe(0);
    // ΔR_math = 10/20 = 0.5, ΔR_other = 10/40 = 0.25, ΔR_non = −5/50 = −0.1 → TI 50, −20
    expect(ok.stdout).toMatch(/^t\s+b\s+50\.00\s+25\.00\s+-10\.00\s+50\.00\s+-20\.00$/m);
    writeFileSync(file, 'model,base,aime24\nb,,20\nt,b,abc\n');
    const bad = await xfer(['ti', '--scores', file]);
    expect(bad.stderr).toContain(`${file}, line 3, field 'aime24': score must be a number`);
  });

  it('bootstraps TI from two stored runs and saves the analysis', async () => {
    const path = join(directory, 'lab.db');
    const store = openStore(path);
    for (const [id, group] of [
      ['math-500', 'math'],
      ['gpqa-diamond', 'other'],
      ['ifeval', 'non'],
    ] as const) {
      store.benchmarks.register({ id, version: '1', group, itemsHash: sha256(id), itemCount: 30 });
    }
    const runIds: string[] = [];
    for (const [name, rates] of [
      ['base', [0.3, 0.4, 0.6]],
      ['tuned', [0.6, 0.5, 0.6]],
    ] as const) {
      const model = store.models.create({
        name,
        ref: { kind: 'nano', name },
        method: name === 'base' ? 'base' : 'rl',
      });
      const evalRun = store.evalRuns.create({
        modelId: model.id,
        settings: { benchmarks: ['math-500', 'gpqa-diamond', 'ifeval'] },
        modelHash: sha256(name),
        chatTemplateHash: sha256('t'),
        samplingHash: sha256('s'),
        scorerVersions: { exact: '1' },
        status: 'completed',
      });
      runIds.push(evalRun.id);
      store.samples.insertSamples(
        ['math-500', 'gpqa-diamond', 'ifeval'].flatMap((benchmark, b) =>
          Array.from({ length: 30 }, (_, item) => {
            const correct = (item * 7 + b) % 10 < rates[b]! * 10;
            return {
              requestHash: sha256(`${name}/${benchmark}/${item}`),
              runId: evalRun.id,
              benchmark,
              itemId: `i${item}`,
              sampleIndex: 0,
              seed: 0,
              prompt: 'q',
              completion: 'a',
              finishReason: 'stop' as const,
              promptTokens: 1,
              completionTokens: 1,
              latencyMs: 1,
              verdicts: [
                { grader: 'exact', graderVersion: '1', extracted: null, correct, score: correct ? 1 : 0 },
              ],
            };
          }),
        ),
      );
    }
    store.close();
    // one benchmark per group: v2's σ_g is 0 (undefined), so this uses v1
    const args = [
      'ti',
      '--run',
      runIds[1]!,
      '--base-run',
      runIds[0]!,
      '--db',
      path,
      '--resamples',
      '300',
      '--formula',
      'v1',
    ];
    const v2 = await xfer([
      'ti',
      '--run',
      runIds[1]!,
      '--base-run',
      runIds[0]!,
      '--db',
      path,
      '--resamples',
      '50',
    ]);
    expect(v2.stdout).toContain('note: DI_math undefined: every benchmark changed by the same amount');
    const result = await xfer([...args, '--save']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('formula=v1 resamples=300 seed=0 confidence=0.95');
    // 9/30 → 18/30 correct: +30 points, with a bootstrap interval around it
    expect(lines.find((line) => line.startsWith('math-500'))).toMatch(
      /^math-500: items=30 delta=30\.00 \[\d+\.\d\d, \d+\.\d\d\]$/,
    );
    // ΔR_math = 30/30 = 1, ΔR_other = (15/40 … ) > 0, ΔR_non = 0 → TI_non = 0
    expect(lines.at(-1)).toMatch(
      /^ti_other=\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\] ti_non=0\.00 \[-?\d+\.\d\d, \d+\.\d\d\]$/,
    );
    // the same seed gives the same intervals
    const again = await xfer(args);
    expect(again.stdout.trim().split('\n').at(-1)).toBe(lines.at(-1));
    const analysisId = lines.find((line) => line.startsWith('analysis='))!.slice('analysis='.length);
    const reopened = openStore(path);
    expect(reopened.analyses.require(analysisId).kind).toBe('ti');
    reopened.close();
    expect(readFileSync(path).length).toBeGreaterThan(0);
  });
});
