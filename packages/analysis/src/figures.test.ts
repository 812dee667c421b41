import type { HiddenResult } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { klBarsSpec, pcaShiftSpec, renderSvg, shiftedTokensSpec, tiScatterSpec } from './figures.js';
import { pcaShift } from './pca-shift.js';
import { SeededRandom } from './random.js';

describe('figures render to SVG headless', () => {
  it('TI scatter: one point per model and index, a mean line per method', async () => {
    const svg = await renderSvg(
      tiScatterSpec([
        { model: 'UniReason-RL', base: 'Qwen3-14B-Base', method: 'rl', tiOther: 70.98, tiNon: 84.11 },
        { model: 'UniReason-SFT', base: 'Qwen3-14B-Base', method: 'sft', tiOther: 42.93, tiNon: -148.45 },
        { model: 'SimpleRL-7B', base: 'Qwen2.5-7B', method: 'rl', tiOther: 16, tiNon: null },
      ]),
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('TI_other');
    expect(svg).toContain('UniReason-SFT');
    // 5 finite values → 5 symbols; every text label present
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(5);
    expect(svg.match(/aria-label="[^"]*tuning: sft; model: UniReason-SFT[^"]*"/g)?.length).toBe(2);
    expect(svg.match(/<text[^>]*>SimpleRL-7B<\/text>/g)?.length).toBe(1);
    // dashed mean lines: one per method in each of the two panels
    expect(svg.match(/stroke-dasharray="6,4"/g)?.length).toBe(4);
  });

  it('PCA shift, KL bars and shifted tokens carry their data into the SVG', async () => {
    const random = new SeededRandom(1);
    const layers = Array.from({ length: 3 }, () =>
      Float32Array.from({ length: 10 * 4 }, () => random.nextUint32() / 2 ** 32),
    );
    const tunedLayers = layers.map((layer) =>
      layer.map((value, index) => value + (index % 4 === 0 ? 0.2 : 0)),
    );
    const hidden = (values: Float32Array[]): HiddenResult => ({
      id: 'x',
      hiddenSize: 4,
      numTexts: 10,
      layers: values,
      tokenCounts: [],
    });
    const result = pcaShift(hidden(layers), hidden(tunedLayers));
    const pcaSvg = await renderSvg(pcaShiftSpec([{ label: 'RL on MATH-500', result }]));
    expect(pcaSvg).toContain(`RL on MATH-500 (d = ${result.distance.toFixed(2)})`);
    const klSvg = await renderSvg(
      klBarsSpec([
        { benchmark: 'MATH-500', model: 'RL', kl: 0.084 },
        { benchmark: 'MATH-500', model: 'SFT', kl: 0.353 },
        { benchmark: 'IFEval', model: 'RL', kl: 0.019 },
      ]),
    );
    expect(klSvg.match(/role-mark/g)).not.toBeNull();
    expect(klSvg).toContain('IFEval');
    const tokensSvg = await renderSvg(
      shiftedTokensSpec([
        { token: ' But', shifted: 12, occurrences: 20, meanShift: 2.5 },
        { token: '\n', shifted: 3, occurrences: 9, meanShift: 1 },
      ]),
    );
    expect(tokensSvg).toContain('But');
    expect(tokensSvg).toContain('\\n');
  });
});
