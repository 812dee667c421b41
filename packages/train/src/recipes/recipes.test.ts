import { describe, expect, it } from 'vitest';
import { getRecipe, recipeIds, resolveTrainingConfig } from './recipes.js';

describe('recipes', () => {
  it('resolve every recipe at every preset into a valid config', () => {
    for (const recipe of recipeIds) {
      for (const preset of ['nano', 'paper', 'paper-released', 'tiny']) {
        const config = resolveTrainingConfig({ recipe, preset, seed: 3 });
        expect(config.recipe).toBe(recipe);
        expect(config.seed).toBe(3);
      }
    }
  });

  it('carry the paper hyperparameters and where the released config differs', () => {
    const sft = resolveTrainingConfig({ recipe: 'sft-think', preset: 'paper' });
    expect(sft).toMatchObject({
      learningRate: 5e-5,
      epochs: 1.5,
      batchSize: 512,
      schedule: { kind: 'cosine', warmupRatio: 0.1 },
    });
    expect(resolveTrainingConfig({ recipe: 'sft-think', preset: 'paper-released' }).epochs).toBe(2);
    const rl = resolveTrainingConfig({ recipe: 'rl', preset: 'paper' });
    expect(rl).toMatchObject({
      learningRate: 1e-6,
      steps: 140,
      batchSize: 512,
      miniBatchSize: 128,
      samplesPerPrompt: 16,
      gradClip: 1,
    });
    expect(rl.optimizer.weightDecay).toBe(0.1);
    expect(rl.levers.loss).toMatchObject({
      clip: { low: 0.2, high: 0.28 },
      klBeta: 0,
      aggregation: 'token-mean',
    });
    expect(resolveTrainingConfig({ recipe: 'rl', preset: 'paper-released' }).miniBatchSize).toBe(32);
  });

  it('differ only in their levers across the ablation', () => {
    expect(getRecipe('onpolicy-rl').levers.loss.klBeta).toBeGreaterThan(0);
    expect(getRecipe('onpolicy-rl-nokl').levers.loss.klBeta).toBe(0);
    expect(getRecipe('offpolicy-sft').levers.sampler).toBe('teacher');
    expect(getRecipe('onpolicy-sft').levers).toMatchObject({
      sampler: 'policy',
      weights: 'uniform',
      negatives: false,
    });
  });

  it('fail naming the bad field', () => {
    expect(() => resolveTrainingConfig({ recipe: 'rl', overrides: { learningRate: -1 } })).toThrowError(
      /field 'config\.learningRate'/,
    );
    expect(() => resolveTrainingConfig({ recipe: 'rl', overrides: { microBatchSize: 'big' } })).toThrowError(
      /field 'config\.microBatchSize'/,
    );
    expect(() => resolveTrainingConfig({ recipe: 'grpo++' })).toThrowError(
      /field 'recipe': unknown recipe "grpo\+\+"/,
    );
    expect(() => resolveTrainingConfig({ recipe: 'rl', preset: 'huge' })).toThrowError(/field 'preset'/);
  });
});
