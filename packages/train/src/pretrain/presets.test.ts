import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { PretrainPresetSchema, pretrainPresets, resolvePretrainPreset } from './presets.js';

describe('pretraining presets', () => {
  it('ships valid nano and tiny presets whose batches divide into micro-batches', () => {
    for (const preset of Object.values(pretrainPresets)) {
      expect(PretrainPresetSchema.parse(preset)).toEqual(preset);
      expect(preset.batchSize % preset.microBatchSize).toBe(0);
    }
  });

  it('applies overrides and names the bad field of an invalid one', () => {
    expect(resolvePretrainPreset('tiny', { steps: 3 }).steps).toBe(3);
    const error = (() => {
      try {
        resolvePretrainPreset('tiny', { learningRate: -1 });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('preset.learningRate');
  });

  it('rejects an unknown preset naming the field', () => {
    expect(() => resolvePretrainPreset('huge')).toThrow(/preset.*unknown pretraining preset "huge"/);
  });
});
