/**
 * Report figures as Vega-Lite specs, and their rendering to SVG in Node (no browser, no canvas: vega's
 * `renderer: 'none'` view and `toSVG`). The specs are plain JSON, so the lab server can also ship them to
 * the browser as they are.
 *
 * @module
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { PcaShiftResult } from './pca-shift.js';
import type { ShiftedToken } from './token-shift.js';

export type { TopLevelSpec as VegaLiteSpec } from 'vega-lite';

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';
const methodColors = { domain: ['rl', 'sft', 'other'], range: ['#1f77b4', '#d62728', '#7f7f7f'] };

/** One tuned model on the TI scatter. */
export interface TiPoint {
  model: string;
  /** The base it is compared with (the x-axis group of the paper's figure). */
  base: string;
  /** `rl`, `sft` or anything else (drawn grey). */
  method: string;
  tiOther: number | null;
  tiNon: number | null;
}

/**
 * The paper's TI figure: one panel per index (TI_other, TI_non), tuned models grouped by base on the x axis,
 * coloured by tuning method, with dashed lines at each method's mean TI and a zero line.
 */
export function tiScatterSpec(points: readonly TiPoint[], title = 'Transferability Index'): TopLevelSpec {
  const values = points.flatMap((point) =>
    (
      [
        ['TI_other', point.tiOther],
        ['TI_non', point.tiNon],
      ] as const
    )
      .filter(([, value]) => value !== null && Number.isFinite(value))
      .map(([index, value]) => ({
        model: point.model,
        base: point.base,
        method: methodColors.domain.includes(point.method) ? point.method : 'other',
        index,
        value,
      })),
  );
  const baseOrder = [...new Set(points.map((point) => point.base))];
  return {
    $schema: schema,
    title,
    data: { values },
    facet: { row: { field: 'index', type: 'nominal', title: null, sort: ['TI_other', 'TI_non'] } },
    spec: {
      width: 520,
      height: 220,
      encoding: { x: { field: 'base', type: 'nominal', sort: baseOrder, title: 'base model' } },
      layer: [
        { mark: { type: 'rule', color: '#999' }, encoding: { x: null, y: { datum: 0 } } },
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: {
            y: { field: 'value', type: 'quantitative', title: 'TI (%)' },
            color: { field: 'method', type: 'nominal', scale: methodColors, title: 'tuning' },
            tooltip: [{ field: 'model' }, { field: 'value', format: '.1f' }],
          },
        },
        {
          mark: { type: 'text', dx: 6, align: 'left', fontSize: 9 },
          encoding: {
            y: { field: 'value', type: 'quantitative' },
            text: { field: 'model' },
          },
        },
        {
          mark: { type: 'rule', strokeDash: [6, 4] },
          encoding: {
            x: null,
            y: { aggregate: 'mean', field: 'value', type: 'quantitative' },
            color: { field: 'method', type: 'nominal', scale: methodColors },
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/**
 * Per-layer PCA shift: the shift ‖(Δpc1, Δpc2)‖ over depth for each series (a tuned model on a benchmark),
 * beside the paper's plane (Δpc1, pc2) of every layer, with d in the legend.
 */
export function pcaShiftSpec(series: readonly { label: string; result: PcaShiftResult }[]): TopLevelSpec {
  const rows = series.flatMap(({ label, result }) =>
    result.layers.map((layer) => ({
      series: `${label} (d = ${result.distance.toFixed(2)})`,
      layer: layer.layer,
      shift: layer.shift,
      deltaPc1: layer.updated[0],
      pc2: layer.updated[1],
      ...(layer.cka === undefined ? {} : { cka: layer.cka }),
    })),
  );
  return {
    $schema: schema,
    title: 'Latent PCA shift per layer',
    data: { values: rows },
    hconcat: [
      {
        width: 360,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'layer', type: 'quantitative', title: 'hidden state (0 = embeddings)' },
          y: { field: 'shift', type: 'quantitative', title: '‖(Δpc1, Δpc2)‖' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        width: 240,
        height: 240,
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'deltaPc1', type: 'quantitative', title: 'Δpc1 (tuned − base)' },
          y: { field: 'pc2', type: 'quantitative', title: 'pc2 (tuned)' },
          color: { field: 'series', type: 'nominal', title: null },
          tooltip: [{ field: 'layer' }, { field: 'shift', format: '.3f' }],
        },
      },
    ],
  } as TopLevelSpec;
}

/** KL to the base per benchmark, one bar per tuned model (the paper's "KL divergence ... to the backbone"). */
export function klBarsSpec(rows: readonly { benchmark: string; model: string; kl: number }[]): TopLevelSpec {
  return {
    $schema: schema,
    title: 'KL divergence to the base model',
    data: { values: rows.filter((row) => Number.isFinite(row.kl)) },
    width: 480,
    height: 240,
    mark: 'bar',
    encoding: {
      x: {
        field: 'benchmark',
        type: 'nominal',
        title: null,
        sort: [...new Set(rows.map((row) => row.benchmark))],
      },
      xOffset: { field: 'model', type: 'nominal' },
      y: { field: 'kl', type: 'quantitative', title: 'KL (nats per token)' },
      color: { field: 'model', type: 'nominal', title: null },
      tooltip: [{ field: 'model' }, { field: 'benchmark' }, { field: 'kl', format: '.4f' }],
    },
  } as TopLevelSpec;
}

/** The tokens whose rank shifted most often, as horizontal bars with their counts. */
export function shiftedTokensSpec(
  tokens: readonly ShiftedToken[],
  title = 'Most-shifted tokens',
): TopLevelSpec {
  const values = tokens.map((token) => ({
    token: JSON.stringify(token.token).slice(1, -1),
    shifted: token.shifted,
    occurrences: token.occurrences,
    meanShift: token.meanShift,
  }));
  return {
    $schema: schema,
    title,
    data: { values },
    width: 360,
    height: { step: 16 },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'token', type: 'nominal', sort: '-x', title: null },
          x: { field: 'shifted', type: 'quantitative', title: 'occurrences whose rank changed' },
          color: { field: 'meanShift', type: 'quantitative', title: 'mean |Δrank|' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: {
          y: { field: 'token', type: 'nominal', sort: '-x' },
          x: { field: 'shifted', type: 'quantitative' },
          text: { field: 'shifted', type: 'quantitative' },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Compile a Vega-Lite spec and render it to an SVG string, headless. Compiler warnings go to `onWarning`
 * (libraries never write to the console).
 */
export async function renderSvg(
  spec: TopLevelSpec,
  options: { onWarning?: (message: string) => void } = {},
): Promise<string> {
  const warn = (...args: unknown[]) => options.onWarning?.(args.map(String).join(' '));
  const logger = {
    level: (_level?: number) => (_level === undefined ? 0 : logger),
    error: (...args: unknown[]) => {
      throw new Error(args.map(String).join(' '));
    },
    warn: (...args: unknown[]) => {
      warn(...args);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const compiled = compile(spec, { logger: logger as never }).spec;
  const view = new View(parse(compiled), { renderer: 'none', logger: logger as never });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
