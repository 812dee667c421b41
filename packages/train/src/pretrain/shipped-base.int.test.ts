import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nanoChatTemplate } from '@xfer/engine-nano';
import { createChatTemplate } from '@xfer/eval';
import { describe, expect, it } from 'vitest';
import { nanoPretrainingCorpus } from './nano-pretraining.js';
import { PretrainPresetSchema, resolvePretrainPreset } from './presets.js';

const record = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../../models/nano-base/pretraining.json', import.meta.url)),
    'utf8',
  ),
) as { preset: unknown; seed: number; corpus: { documents: number } };

/**
 * sha256 of `JSON.stringify(buildNanoCorpus(...))` for the `nano` preset and seed 0: the corpus the shipped
 * `models/nano-base` (base j, nano-suite version 6, 40,000 copy drills) was trained on, measured when it was built (2026-12-07). A change to the tasks,
 * the knowledge base or the corpus builder changes it, and then `xfer pretrain --preset nano` no longer
 * reproduces the shipped checkpoint: ship a new base with the change.
 */
const SHIPPED_CORPUS_SHA256 = 'ca4819d23748a53466c0ff86b9ed33dfed04c091931e5584845ef63f1d387d58';

describe('the nano preset reproduces the shipped base', () => {
  it('is the preset models/nano-base records, with later fields at their defaults', () => {
    expect(resolvePretrainPreset('nano')).toEqual(PretrainPresetSchema.parse(record.preset));
  });

  it('builds the corpus the shipped base was trained on', () => {
    const template = createChatTemplate(nanoChatTemplate);
    // The very documents `xfer pretrain --preset nano` trains on.
    const documents = nanoPretrainingCorpus(resolvePretrainPreset('nano'), record.seed, (messages, options) =>
      template.render(messages, options),
    );
    expect(documents).toHaveLength(record.corpus.documents);
    expect(createHash('sha256').update(JSON.stringify(documents)).digest('hex')).toBe(SHIPPED_CORPUS_SHA256);
  });
});
