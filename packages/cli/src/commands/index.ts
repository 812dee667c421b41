import type { CommandDef } from 'citty';

/**
 * Every `xfer` subcommand, loaded lazily so that `xfer --help` stays fast. One file per command in this
 * folder; add a line here when you add one.
 */
export const commands: Record<string, () => Promise<CommandDef<any>>> = {
  db: () => import('./db.js').then((m) => m.default),
  ti: () => import('./ti.js').then((m) => m.default),
  analyze: () => import('./analyze.js').then((m) => m.default),
  eval: () => import('./eval.js').then((m) => m.default),
  results: () => import('./results.js').then((m) => m.default),
  'serve-model': () => import('./serve-model.js').then((m) => m.default),
  pretrain: () => import('./pretrain.js').then((m) => m.default),
  score: () => import('./score.js').then((m) => m.default),
  train: () => import('./train.js').then((m) => m.default),
  repro: () => import('./repro.js').then((m) => m.default),
};
