import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HiddenResult } from '@xfer/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pcaShift } from './pca-shift.js';
import { SeededRandom } from './random.js';

/**
 * The paper's `analyse_PCA_Shift.py` logic with Debian's scikit-learn (1.2: `svd_flip` by U) and the
 * scikit-learn ≥ 1.5 rule (`svd_flip(u_based_decision=False)`) applied to the same SVD by hand.
 */
const reference = `
import json, sys
import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils.extmath import svd_flip
folder, layers, texts, hidden = sys.argv[1], *map(int, sys.argv[2:5])
base = np.fromfile(folder + "/base.f32", dtype=np.float32).reshape(layers, texts, hidden)
tuned = np.fromfile(folder + "/tuned.f32", dtype=np.float32).reshape(layers, texts, hidden)
out = {}
for rule in ("u", "v"):
    originals, updateds = [], []
    for layer in range(layers):
        feats = base[layer].astype(np.float64)
        if rule == "u":
            comps = PCA(n_components=2).fit(feats).components_
        else:
            centred = feats - feats.mean(axis=0)
            u, s, vt = np.linalg.svd(centred, full_matrices=False)
            u, vt = svd_flip(u, vt, u_based_decision=False)
            comps = vt[:2]
        pc1_o, pc2_o = np.mean(feats @ comps[0]), np.mean(feats @ comps[1])
        feats_u = tuned[layer].astype(np.float64)
        pc1_u, pc2_u = np.mean(feats_u @ comps[0]), np.mean(feats_u @ comps[1])
        originals.append((0.0, pc2_o))
        updateds.append((pc1_u - pc1_o, pc2_u))
    d = float(np.linalg.norm(np.mean(updateds, axis=0) - np.mean(originals, axis=0)))
    out[rule] = {"d": d, "updated": [list(map(float, p)) for p in updateds], "original": [list(map(float, p)) for p in originals]}
print(json.dumps(out))
`;

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'xfer-pca-numpy-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe('pcaShift against NumPy / scikit-learn (/usr/bin/python3)', () => {
  it('per-layer points and d agree under both svd_flip sign rules', () => {
    const layers = 4;
    const texts = 30;
    const hidden = 48;
    const random = new SeededRandom(77);
    const uniform = () => random.nextUint32() / 2 ** 32 - 0.5;
    const base = new Float32Array(layers * texts * hidden);
    for (let i = 0; i < base.length; i++)
      base[i] = uniform() * (1 + ((i % hidden) % 5)) + (i % hidden) * 0.01;
    const tuned = base.map((value, i) => value * 1.05 + ((i % hidden) % 3 === 0 ? 0.2 : 0));
    writeFileSync(join(folder, 'base.f32'), base);
    writeFileSync(join(folder, 'tuned.f32'), tuned);
    const python = spawnSync(
      '/usr/bin/python3',
      ['-c', reference, folder, String(layers), String(texts), String(hidden)],
      {
        encoding: 'utf8',
        env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
      },
    );
    expect(python.stderr).toBe('');
    const expected = JSON.parse(python.stdout) as Record<
      'u' | 'v',
      { d: number; updated: number[][]; original: number[][] }
    >;
    // the two rules disagree on some sign here, so the test tells them apart
    const flips = expected.u.updated.filter(
      (point, l) => Math.sign(point[1]!) !== Math.sign(expected.v.updated[l]![1]!),
    );
    const pc1Flips = expected.u.updated.filter(
      (point, l) => Math.sign(point[0]!) !== Math.sign(expected.v.updated[l]![0]!),
    );
    expect(flips.length + pc1Flips.length).toBeGreaterThan(0);
    const hiddenResult = (data: Float32Array): HiddenResult => ({
      id: 'h',
      hiddenSize: hidden,
      numTexts: texts,
      layers: Array.from({ length: layers }, (_, l) =>
        data.subarray(l * texts * hidden, (l + 1) * texts * hidden),
      ),
      tokenCounts: [],
    });
    for (const [rule, signConvention] of [
      ['u', 'sklearn<1.5'],
      ['v', 'sklearn>=1.5'],
    ] as const) {
      for (const precision of ['float64', 'float32'] as const) {
        const ours = pcaShift(hiddenResult(base), hiddenResult(tuned), { signConvention, precision });
        const digits = precision === 'float64' ? 9 : 4;
        expect(ours.distance).toBeCloseTo(expected[rule].d, digits);
        ours.layers.forEach((layer, l) => {
          expect(layer.updated[0]).toBeCloseTo(expected[rule].updated[l]![0]!, digits);
          expect(layer.updated[1]).toBeCloseTo(expected[rule].updated[l]![1]!, digits);
          expect(layer.original[1]).toBeCloseTo(expected[rule].original[l]![1]!, digits);
        });
      }
    }
  });
});
