import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runXfer } from '../../test/run-xfer.js';

const xfer = runXfer;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'xfer-cli-analyze-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/** A file in the paper's released token-loss format. */
function lossFile(name: string, model: string, samples: [string, number, number][][]): string {
  const path = join(directory, name);
  const results = samples.map((tokens) => ({
    avg_loss: tokens.reduce((sum, [, loss]) => sum + loss, 0) / Math.max(tokens.length, 1),
    perplexity: 1,
    token_losses: tokens.map(([token, loss, rank]) => ({ loss, token, rank })),
  }));
  writeFileSync(path, JSON.stringify({ model, dataset: 'ifeval', results }));
  return path;
}

describe('xfer analyze tokens', () => {
  it("prints the paper's KL, the rank shift and the shifted share, last line key=value", async () => {
    const tuned = lossFile('tuned.json', 'UniReason-RL', [
      [
        ['So', 0.1, 1],
        [' we', 0.5, 2],
      ],
      [
        ['But', 2.0, 3],
        [' x', 1.0, 1],
        ['!', 4.0, 9],
      ],
    ]);
    const base = lossFile('base.json', 'Qwen3-14B-Base', [
      [
        ['So', 0.7, 2],
        [' we', 0.2, 2],
      ],
      [
        ['But', 1.0, 1],
        [' x', 3.0, 5],
      ],
    ]);
    const svg = join(directory, 'tokens.svg');
    const result = await xfer(['analyze', 'tokens', '--tuned', tuned, '--base', base, '--svg', svg]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    // per sample: (0.6 − 0.3)/2 = 0.15 and (−1 + 2)/2 = 0.5 (truncated to 2 tokens) → |mean| = 0.325;
    // rank shifts 1, 0, 2, 4 → mean 1.75, 3 of 4 changed
    expect(lines.at(-1)).toBe('kl=0.325000 mean_rank_shift=1.750000 shifted_share=0.750000');
    expect(result.stdout).toContain('truncated_samples=1');
    expect(result.stdout).toContain('"But"  1/1  2.00');
    expect(readFileSync(svg, 'utf8')).toContain('Most-shifted tokens: UniReason-RL vs Qwen3-14B-Base');
    const strict = await xfer(['analyze', 'tokens', '--tuned', tuned, '--base', base, '--align', 'strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("field 'results[1].token_losses'");
  });

  it('names the file and field of a malformed token-loss file', async () => {
    const good = lossFile('good.json', 'm', [[['a', 1, 1]]]);
    const bad = join(directory, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        model: 'm',
        dataset: 'd',
        results: [{ token_losses: [{ loss: 1, token: 'a', rank: 0 }] }],
      }),
    );
    const result = await xfer(['analyze', 'tokens', '--tuned', bad, '--base', good]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}, field 'results[0].token_losses[0].rank'`);
  });
});

describe('xfer analyze pca', () => {
  it("runs the paper's PCA shift on two nano checkpoints' hidden states", async () => {
    const nano = await import('@xfer/engine-nano');
    const { pcaShift, paperHiddenRequest } = await import('@xfer/analysis');
    const { HiddenRequestSchema } = await import('@xfer/core');
    const config = {
      vocab_size: 264,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 4,
      max_position_embeddings: 160,
    };
    const baseDirectory = join(directory, 'base');
    const tunedDirectory = join(directory, 'tuned');
    await nano.saveNanoCheckpoint(nano.createNanoModel(config, 1), baseDirectory);
    await nano.saveNanoCheckpoint(nano.createNanoModel(config, 2), tunedDirectory);
    const texts = join(directory, 'texts.jsonl');
    const lines = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ text: `Problem ${i}: what is ${i} + ${i * 3}?` }),
    );
    writeFileSync(texts, `${lines.join('\n')}\n`);
    const svg = join(directory, 'pca.svg');
    const result = await xfer([
      'analyze',
      'pca',
      '--base',
      baseDirectory,
      '--tuned',
      tunedDirectory,
      '--texts',
      texts,
      '--svg',
      svg,
    ]);
    expect(result.code).toBe(0);
    const output = result.stdout.trim().split('\n');
    expect(output[0]).toBe('texts=12 hidden_size=16 hidden_states=3 components=2');
    // the same computation through the library, on the engines' own hidden states
    const hidden = async (path: string) => {
      const engine = await nano.createNanoEngine(path);
      const states = await engine.hidden(
        HiddenRequestSchema.parse(
          paperHiddenRequest(
            'h',
            lines.map((line) => JSON.parse(line).text),
          ),
        ),
      );
      await engine.close();
      return states;
    };
    const expected = pcaShift(await hidden(baseDirectory), await hidden(tunedDirectory), { cka: true });
    expect(output.at(-1)).toMatch(
      new RegExp(`^d=${expected.distance.toFixed(6)} max_layer_shift=\\d+\\.\\d{6} mean_cka=\\d\\.\\d{6}$`),
    );
    expect(expected.distance).toBeGreaterThan(0);
    expect(readFileSync(svg, 'utf8')).toContain('Latent PCA shift per layer');
    const same = await xfer([
      'analyze',
      'pca',
      '--base',
      baseDirectory,
      '--tuned',
      baseDirectory,
      '--texts',
      texts,
    ]);
    expect(same.stdout.trim().split('\n').at(-1)).toBe(
      'd=0.000000 max_layer_shift=0.000000 mean_cka=1.000000',
    );
    const badTexts = join(directory, 'bad.jsonl');
    writeFileSync(badTexts, '{"text": "a"}\n{"txt": "b"}\n');
    const bad = await xfer([
      'analyze',
      'pca',
      '--base',
      baseDirectory,
      '--tuned',
      baseDirectory,
      '--texts',
      badTexts,
    ]);
    expect(bad.stderr).toContain(`${badTexts}, line 2, field 'text'`);
  });
});
