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

export default defineCommand({
  meta: { name: 'analyze', description: 'Explain transfer: token-distribution shift (and more analyses)' },
  subCommands: { tokens },
});
