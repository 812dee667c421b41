import { readFileSync, writeFileSync } from 'node:fs';
import { ValidationError } from '@xfer/core';
import { defineCommand } from 'citty';
import { reportError } from '../report-error.js';

function format(value: number): string {
  return Number.isFinite(value) ? value.toFixed(6) : String(value);
}

const tokens = defineCommand({
  meta: {
    name: 'tokens',
    description:
      "Token-distribution shift between a tuned model and its base from the paper's token-loss files: the paper's KL estimator, mean token rank shift, shifted share, most-shifted tokens",
  },
  args: {
    tuned: {
      type: 'string',
      required: true,
      description: 'token-loss JSON of the tuned model on its own responses',
    },
    base: {
      type: 'string',
      required: true,
      description: 'token-loss JSON of the base model on the same texts',
    },
    align: {
      type: 'string',
      default: 'shorter',
      description: "'shorter' (the paper's code truncates) or 'strict'",
    },
    top: { type: 'string', default: '20', description: 'how many most-shifted tokens to list' },
    svg: { type: 'string', description: 'also write the most-shifted tokens figure to this SVG file' },
    json: {
      type: 'boolean',
      default: false,
      description: 'print the full result as JSON before the last line',
    },
  },
  async run({ args }) {
    try {
      const analysis = await import('@xfer/analysis');
      if (args.align !== 'shorter' && args.align !== 'strict') {
        throw new ValidationError({
          field: '--align',
          message: `expected shorter or strict, got '${args.align}'`,
        });
      }
      const top = Number(args.top);
      if (!Number.isInteger(top) || top < 0) {
        throw new ValidationError({
          field: '--top',
          message: `expected a non-negative integer, got '${args.top}'`,
        });
      }
      const read = (path: string) =>
        analysis.tracesFromTokenLossFile(analysis.parseTokenLossFile(readFileSync(path, 'utf8'), path));
      const tuned = read(args.tuned);
      const base = read(args.base);
      const result = analysis.tokenShift(tuned, base, { align: args.align, topTokens: top });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (args.json) out(JSON.stringify(result, null, 2));
      else {
        out(`tuned=${tuned.model ?? '?'} base=${base.model ?? '?'} dataset=${tuned.dataset ?? '?'}`);
        out(
          `samples=${result.samples} aligned_tokens=${result.alignedTokens} truncated_samples=${result.truncatedSamples} empty_samples=${result.emptySamples} token_mismatches=${result.tokenMismatches}`,
        );
        out(`KL (paper estimator, |mean_i mean_j log p_tuned − log p_base|): ${format(result.paperKl)}`);
        out(`mean token rank shift |rank_base − rank_tuned|: ${format(result.meanRankShift)}`);
        out(`share of tokens whose rank changed: ${format(result.shiftedShare)}`);
        if (result.topShiftedTokens.length > 0) {
          out('most-shifted tokens (shifted/occurrences, mean |Δrank|):');
          for (const token of result.topShiftedTokens) {
            out(
              `  ${JSON.stringify(token.token)}  ${token.shifted}/${token.occurrences}  ${token.meanShift.toFixed(2)}`,
            );
          }
        }
      }
      if (args.svg !== undefined) {
        const title = `Most-shifted tokens: ${tuned.model ?? 'tuned'} vs ${base.model ?? 'base'}`;
        writeFileSync(
          args.svg,
          await analysis.renderSvg(analysis.shiftedTokensSpec(result.topShiftedTokens, title)),
        );
        if (!args.json) out(`figure=${args.svg}`);
      }
      out(
        `kl=${format(result.paperKl)} mean_rank_shift=${format(result.meanRankShift)} shifted_share=${format(result.shiftedShare)}`,
      );
    } catch (error) {
      reportError(error);
    }
  },
});

/** Texts for the PCA shift: one per line of a .txt file, or the `text` field of each JSONL line. */
function readTexts(path: string, limit: number): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const texts: string[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '' || texts.length >= limit) return;
    if (!path.endsWith('.jsonl')) {
      texts.push(line);
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (cause) {
      throw new ValidationError({ file: path, line: index + 1, message: 'malformed JSON', cause });
    }
    const text = (record as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') {
      throw new ValidationError({ file: path, line: index + 1, field: 'text', message: 'expected a string' });
    }
    texts.push(text);
  });
  return texts;
}

const pca = defineCommand({
  meta: {
    name: 'pca',
    description:
      "Latent PCA shift (the paper's algorithm) between a tuned nano checkpoint and its base on the same texts: per-layer (Δpc1, pc2), shift and CKA, and d",
  },
  args: {
    base: { type: 'string', required: true, description: 'base model (nano-base, nano:<dir>, ./dir)' },
    tuned: { type: 'string', required: true, description: 'tuned model, same forms' },
    texts: {
      type: 'string',
      required: true,
      description: 'texts: .txt (one per line) or .jsonl ({"text": ...})',
    },
    limit: { type: 'string', default: '100', description: 'texts to use (the paper: 100)' },
    components: { type: 'string', default: '2', description: 'PCA components per layer (≥ 2)' },
    sign: {
      type: 'string',
      default: 'sklearn>=1.5',
      description: "component signs: 'sklearn>=1.5' or 'sklearn<1.5'",
    },
    svg: { type: 'string', description: 'also write the per-layer figure to this SVG file' },
  },
  async run({ args }) {
    try {
      const analysis = await import('@xfer/analysis');
      const { HiddenRequestSchema, parseModelRef } = await import('@xfer/core');
      const limit = Number(args.limit);
      const components = Number(args.components);
      if (!Number.isInteger(limit) || limit < 2) {
        throw new ValidationError({
          field: '--limit',
          message: `expected an integer ≥ 2, got '${args.limit}'`,
        });
      }
      if (args.sign !== 'sklearn>=1.5' && args.sign !== 'sklearn<1.5') {
        throw new ValidationError({
          field: '--sign',
          message: `expected sklearn>=1.5 or sklearn<1.5, got '${args.sign}'`,
        });
      }
      const texts = readTexts(args.texts, limit);
      const nano = await import('@xfer/engine-nano');
      const { nanoSearchPaths } = await import('../nano-engines.js');
      const open = async (text: string, field: string) => {
        const ref = parseModelRef(text);
        if (ref.kind !== 'nano' && ref.kind !== 'local') {
          throw new ValidationError({
            field,
            message: `this command runs nano checkpoints; for ${ref.kind} engines call pcaShift on their hidden() results`,
          });
        }
        return nano.createNanoEngine(ref, { searchPaths: nanoSearchPaths() });
      };
      const hiddenOf = async (text: string, field: string) => {
        const engine = await open(text, field);
        try {
          return await engine.hidden(HiddenRequestSchema.parse(analysis.paperHiddenRequest(field, texts)));
        } finally {
          await engine.close();
        }
      };
      const base = await hiddenOf(args.base, '--base');
      const tuned = await hiddenOf(args.tuned, '--tuned');
      const result = analysis.pcaShift(base, tuned, { components, signConvention: args.sign, cka: true });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(
        `texts=${result.numTexts} hidden_size=${result.hiddenSize} hidden_states=${result.layers.length} components=${components}`,
      );
      out('layer  delta_pc1  pc2_tuned  pc2_base  shift  cka');
      for (const layer of result.layers) {
        out(
          `${layer.layer}  ${layer.updated[0].toFixed(4)}  ${layer.updated[1].toFixed(4)}  ${layer.original[1].toFixed(4)}  ${layer.shift.toFixed(4)}  ${layer.cka?.toFixed(4) ?? 'n/a'}`,
        );
      }
      if (args.svg !== undefined) {
        writeFileSync(
          args.svg,
          await analysis.renderSvg(
            analysis.pcaShiftSpec([{ label: `${args.tuned} vs ${args.base}`, result }]),
          ),
        );
        out(`figure=${args.svg}`);
      }
      const shifts = result.layers.map((layer) => layer.shift);
      const ckas = result.layers.map((layer) => layer.cka ?? Number.NaN);
      out(
        `d=${format(result.distance)} max_layer_shift=${format(Math.max(...shifts))} mean_cka=${format(ckas.reduce((a, b) => a + b, 0) / ckas.length)}`,
      );
    } catch (error) {
      reportError(error);
    }
  },
});

export default defineCommand({
  meta: { name: 'analyze', description: 'Explain transfer: latent PCA shift and token-distribution shift' },
  subCommands: { tokens, pca },
});
