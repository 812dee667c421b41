/**
 * Where a training step's time goes: wraps the float32 matmul backend with timers and runs one
 * forward/backward + AdamW step of the bench model (8×256 tokens). `tsx --conditions=@xfer/source
 * packages/engine-nano/scripts/profile.ts`.
 */
import { readFileSync } from 'node:fs';
import { defaultNanoConfig, parseNanoConfig } from '../src/config.js';
import { backendFor, setFloat32Backend } from '../src/kernels/backend.js';
import type { MatmulBackend } from '../src/kernels/matmul.js';
import { createNanoModel } from '../src/model.js';
import { NanoTrainer } from '../src/trainer.js';

const inner = backendFor('float32');
const totals = { nn: 0, nt: 0, tn: 0, flops: 0, calls: 0 };
const timed =
  (name: 'nn' | 'nt' | 'tn'): MatmulBackend['nn'] =>
  (a, b, c, m, k, n, accumulate) => {
    const started = performance.now();
    inner[name](a, b, c, m, k, n, accumulate);
    totals[name] += performance.now() - started;
    totals.flops += 2 * m * k * n;
    totals.calls++;
  };
setFloat32Backend({
  ...inner,
  name: `timed-${inner.name}`,
  nn: timed('nn'),
  nt: timed('nt'),
  tn: timed('tn'),
});
// `--nano`: the shipped nano-base's architecture (models/nano-base/config.json) and a pretraining-shaped
// batch (32 sequences of 20–130 tokens, as the nano corpus); default: the bench model, 8×256 tokens.
const nanoShape = process.argv.includes('--nano');
const config = nanoShape
  ? parseNanoConfig(
      JSON.parse(readFileSync(new URL('../../../models/nano-base/config.json', import.meta.url), 'utf8')),
    )
  : defaultNanoConfig;
const trainer = new NanoTrainer(createNanoModel(config, 0));
const batch = Array.from({ length: nanoShape ? 32 : 8 }, (_, s) => ({
  promptTokenIds: nanoShape ? Array.from({ length: 10 + ((s * 37) % 50) }, (_, i) => (i * 3 + s) % 256) : [s],
  completionTokenIds: Array.from(
    { length: nanoShape ? 10 + ((s * 53) % 60) : 256 },
    (_, i) => (i * 7 + s) % 256,
  ),
}));
const repeats = nanoShape ? 20 : 1;
const loss = { clip: null, klBeta: 0, aggregation: 'token-mean' as const };
await trainer.forwardBackward(batch, loss);
await trainer.optimizerStep({ learningRate: 1e-4, gradClip: 1 });
totals.nn = totals.nt = totals.tn = totals.flops = totals.calls = 0;
const cpu = process.cpuUsage();
let forwardBackwardMs = 0;
let optimizerMs = 0;
for (let r = 0; r < repeats; r++) {
  let started = performance.now();
  await trainer.forwardBackward(batch, loss);
  forwardBackwardMs += performance.now() - started;
  started = performance.now();
  await trainer.optimizerStep({ learningRate: 1e-4, gradClip: 1 });
  optimizerMs += performance.now() - started;
}
const matmulMs = totals.nn + totals.nt + totals.tn;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
const tokens = batch.reduce(
  (sum, item) => sum + item.promptTokenIds.length + item.completionTokenIds.length,
  0,
);
process.stdout.write(
  `${repeats} step(s) of ${tokens} tokens (${((tokens * repeats * 1000) / (forwardBackwardMs + optimizerMs)).toFixed(0)} tokens/s)\n` +
    `forward+backward ${forwardBackwardMs.toFixed(0)} ms, optimizer ${optimizerMs.toFixed(0)} ms\n` +
    `matmul ${matmulMs.toFixed(0)} ms in ${totals.calls} calls (nn ${totals.nn.toFixed(0)}, nt ${totals.nt.toFixed(0)}, tn ${totals.tn.toFixed(0)}), ` +
    `${(totals.flops / 1e9).toFixed(1)} GFLOP at ${(totals.flops / 1e6 / matmulMs).toFixed(1)} GFLOP/s\n` +
    `everything else ${(forwardBackwardMs - matmulMs).toFixed(0)} ms; process CPU time ${cpuMs.toFixed(0)} ms for ${(forwardBackwardMs + optimizerMs).toFixed(0)} ms wall\n`,
);
