/**
 * `@xfer/analysis`: the study's explanatory core.
 *
 * - the Transferability Index, both published formulas (v1 relative gains, v2 z-normalised signed-sqrt),
 *   from a score table or from the store with item-level paired bootstrap intervals;
 * - the latent PCA shift exactly as the paper's released code, plus per-layer curves, k components and CKA;
 * - token-distribution shift: the paper's KL estimator, exact full-vocabulary KL, token rank shift;
 * - report figures as Vega-Lite specs rendered to SVG.
 *
 * @example
 * ```ts
 * import { parseScoreTable, tableTransferability, formatTiTable } from '@xfer/analysis';
 * const table = parseScoreTable(csvText, { file: 'scores.csv' });
 * console.log(formatTiTable(tableTransferability(table, { formula: 'v2' })));
 * ```
 * @module
 */
export * from './figures.js';
export {
  centreColumns,
  columnMeans,
  gramMatrix,
  type SymmetricEigen,
  symmetricEigen,
} from './linear-algebra.js';
export * from './paired-bootstrap.js';
export * from './pca-shift.js';
export { hashString, SeededRandom } from './random.js';
export * from './score-table.js';
export * from './store-ti.js';
export * from './ti.js';
export * from './token-shift.js';
