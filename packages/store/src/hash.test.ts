import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestHash, sha256, sha256File } from './hash.js';
import { createTestStore } from './testing.js';

describe('hashing', () => {
  it('sha256 matches the published test vector', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('requestHash ignores key order and undefined fields, and changes with any value', () => {
    const parts = { model: 'm', sampling: { temperature: 0.6, topP: 0.95 }, seed: 1, sampleIndex: 0 };
    const reordered = {
      sampleIndex: 0,
      seed: 1,
      sampling: { topP: 0.95, temperature: 0.6 },
      model: 'm',
      extra: undefined,
    };
    expect(requestHash(reordered)).toBe(requestHash(parts));
    expect(requestHash({ ...parts, sampleIndex: 1 })).not.toBe(requestHash(parts));
    expect(requestHash({ ...parts, sampling: { temperature: 0.7, topP: 0.95 } })).not.toBe(
      requestHash(parts),
    );
    expect(requestHash(parts)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sha256File streams a file and counts its bytes', async () => {
    const test = createTestStore();
    try {
      const file = join(test.directory, 'weights.bin');
      const content = Buffer.alloc(200_000, 7);
      writeFileSync(file, content);
      expect(await sha256File(file)).toEqual({ sha256: sha256(content), bytes: 200_000 });
    } finally {
      test.cleanup();
    }
  });
});
