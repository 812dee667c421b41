import { PolicyLossSchema, TrainingDivergedError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { createNanoModel } from './model.js';
import { lrAt } from './schedule.js';
import { tinyNanoConfig } from './testing.js';
import { encodeText, endOfTextId, imEndId } from './tokenizer.js';
import { NanoTrainer } from './trainer.js';

const config = tinyNanoConfig(64);
const plain = PolicyLossSchema.parse({});
const toy = [
  {
    promptTokenIds: [endOfTextId, ...encodeText('Q:')],
    completionTokenIds: [...encodeText(' abcabcabc'), imEndId],
  },
];

describe('NanoTrainer', () => {
  it('rejects a malformed sequence with an error naming its field, and changes nothing', async () => {
    const trainer = new NanoTrainer(createNanoModel(config, 1));
    const cases: [unknown, RegExp][] = [
      [{ promptTokenIds: [1], completionTokenIds: [] }, /sequences\[1\]\.completionTokenIds/],
      [{ promptTokenIds: [1, -2], completionTokenIds: [3] }, /sequences\[1\]\.promptTokenIds\[1\]/],
      [
        { promptTokenIds: [1], completionTokenIds: [3], weights: [Number.NaN] },
        /sequences\[1\]\.weights\[0\]/,
      ],
      [{ promptTokenIds: [1], completionTokenIds: [2.5] }, /sequences\[1\]\.completionTokenIds\[0\]/],
    ];
    for (const [bad, field] of cases) {
      const failure = await trainer
        .forwardBackward([toy[0]!, bad as (typeof toy)[0]], plain)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(`${(failure as { field?: string }).field} ${(failure as Error).message}`).toMatch(field);
    }
    const clean = new NanoTrainer(createNanoModel(config, 1));
    const expected = await clean.forwardBackward(toy, plain);
    expect((await trainer.forwardBackward(toy, plain)).loss).toBe(expected.loss);
  });

  it('learns a toy sequence: the loss falls by more than 3x', async () => {
    const trainer = new NanoTrainer(createNanoModel(config, 1), { optimizer: { weightDecay: 0.01 } });
    const first = await trainer.forwardBackward(toy, plain);
    await trainer.optimizerStep({ learningRate: 3e-3, gradClip: 1 });
    let last = first.loss;
    for (let step = 0; step < 40; step++) {
      last = (await trainer.forwardBackward(toy, plain)).loss;
      await trainer.optimizerStep({ learningRate: 3e-3, gradClip: 1 });
    }
    expect(first.loss).toBeGreaterThan(5);
    expect(last).toBeLessThan(first.loss / 3);
    const [greedy] = await trainer.policy.score([
      { id: 'g', context: '\u0000Q:', continuation: ' abcabc', fullDistribution: false },
    ]);
    expect(greedy!.isGreedy.filter(Boolean).length).toBeGreaterThanOrEqual(5);
  });

  it('is deterministic: the same seed and steps give bit-identical weights', async () => {
    const run = async () => {
      const trainer = new NanoTrainer(createNanoModel(config, 9));
      for (let step = 0; step < 3; step++) {
        await trainer.forwardBackward(toy, plain);
        await trainer.optimizerStep({ learningRate: 1e-3 });
      }
      return trainer.model;
    };
    const [a, b] = [await run(), await run()];
    for (const [name, data] of a.tensors)
      expect(Buffer.from(b.tensors.get(name)!.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    const other = createNanoModel(config, 10);
    expect(other.embed[0]).not.toBe(createNanoModel(config, 9).embed[0]);
  });

  it('applies AdamW with bias correction and decoupled weight decay', async () => {
    const model = createNanoModel(config, 2);
    const trainer = new NanoTrainer(model, { optimizer: { weightDecay: 0.1, eps: 1e-30 } });
    const before = Float32Array.from(model.tensors.get('model.layers.0.mlp.up_proj.weight')!);
    const normBefore = Float32Array.from(model.finalNorm);
    await trainer.forwardBackward(toy, plain);
    const { gradNorm, step } = await trainer.optimizerStep({ learningRate: 0.01 });
    expect(step).toBe(1);
    expect(gradNorm).toBeGreaterThan(0);
    const after = model.tensors.get('model.layers.0.mlp.up_proj.weight')!;
    // on step 1, m̂ = g and v̂ = g², so every weight moves by exactly ±lr (plus decay) unless g ≈ 0
    let moved = 0;
    for (let i = 0; i < after.length; i++) {
      const change = after[i]! - before[i]! * (1 - 0.01 * 0.1);
      if (Math.abs(change) > 1e-7) {
        expect(Math.abs(Math.abs(change) - 0.01)).toBeLessThan(1e-4);
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(after.length / 2);
    // norm weights are not decayed: |Δ| is lr or 0
    for (let i = 0; i < normBefore.length; i++) {
      const change = Math.abs(model.finalNorm[i]! - normBefore[i]!);
      expect(change < 1e-7 || Math.abs(change - 0.01) < 1e-4).toBe(true);
    }
  });

  it('clips the global gradient norm and reports the norm before clipping', async () => {
    const a = new NanoTrainer(createNanoModel(config, 3));
    const b = new NanoTrainer(createNanoModel(config, 3));
    await a.forwardBackward(toy, plain);
    await b.forwardBackward(toy, plain);
    const unclipped = await a.optimizerStep({ learningRate: 0 });
    const clipped = await b.optimizerStep({ learningRate: 0, gradClip: unclipped.gradNorm / 10 });
    expect(clipped.gradNorm).toBe(unclipped.gradNorm);
  });

  it('stops with TrainingDivergedError naming the step and the loss, and refuses to save', async () => {
    const model = createNanoModel(config, 4);
    const trainer = new NanoTrainer(model);
    await trainer.forwardBackward(toy, plain);
    await trainer.optimizerStep({ learningRate: 1e-3 });
    model.layers[1]!.downProj[3] = Number.NaN;
    const error = await trainer.forwardBackward(toy, plain).catch((caught: unknown) => caught);
    expect(TrainingDivergedError.isInstance(error)).toBe(true);
    expect((error as TrainingDivergedError).step).toBe(2);
    expect((error as TrainingDivergedError).tensor).toBe('loss');
    const saved = await trainer.save('/nonexistent/never-written').catch((caught: unknown) => caught);
    expect(TrainingDivergedError.isInstance(saved)).toBe(true);
  });

  it('names the tensor when a gradient overflows, and leaves the weights untouched', async () => {
    const model = createNanoModel(config, 6);
    const trainer = new NanoTrainer(model);
    const before = Float32Array.from(model.embed);
    // huge per-token weights: the loss is still finite in float64, the float32 gradients overflow to Inf/NaN
    const huge = [{ ...toy[0]!, weights: toy[0]!.completionTokenIds.map(() => 1e300) }];
    const outcome = await trainer.forwardBackward(huge, plain);
    expect(Number.isFinite(outcome.loss)).toBe(true);
    const error = await trainer.optimizerStep({ learningRate: 1e-3 }).catch((caught: unknown) => caught);
    expect(TrainingDivergedError.isInstance(error)).toBe(true);
    expect((error as TrainingDivergedError).step).toBe(1);
    expect((error as TrainingDivergedError).tensor).toMatch(/^model\..+ \(gradient\)$/);
    expect(Array.from(model.embed)).toEqual(Array.from(before));
  });

  it('uses the snapshotted reference for the KL term', async () => {
    const trainer = new NanoTrainer(createNanoModel(config, 5));
    const withKl = PolicyLossSchema.parse({ klBeta: 0.5 });
    await expect(trainer.forwardBackward(toy, withKl)).rejects.toThrow(/reference/);
    await trainer.snapshotReference();
    const start = await trainer.forwardBackward(toy, withKl);
    expect(start.kl).toBe(0);
    await trainer.optimizerStep({ learningRate: 1e-2 });
    const moved = await trainer.forwardBackward(toy, withKl);
    expect(moved.kl).toBeGreaterThan(0);
    const [reference] = await trainer.logprobs(toy, 'reference');
    expect(reference).toEqual(start.logprobs[0]);
  });
});

describe('lrAt', () => {
  it('warms up linearly then decays along a cosine to the floor', () => {
    const schedule = { kind: 'cosine' as const, warmupSteps: 10, minLrRatio: 0.1 };
    expect(lrAt(schedule, 0, 110, 1e-3)).toBe(0);
    expect(lrAt(schedule, 5, 110, 1e-3)).toBeCloseTo(5e-4, 12);
    expect(lrAt(schedule, 10, 110, 1e-3)).toBeCloseTo(1e-3, 12);
    expect(lrAt(schedule, 60, 110, 1e-3)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 12);
    expect(lrAt(schedule, 110, 110, 1e-3)).toBeCloseTo(1e-4, 12);
    expect(lrAt({ kind: 'linear', warmupRatio: 0.1 }, 55, 100)).toBeCloseTo(0.5, 12);
    expect(lrAt({ kind: 'constant', warmupRatio: 0.1 }, 50, 100)).toBe(1);
  });
});
