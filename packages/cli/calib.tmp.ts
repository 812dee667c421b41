import { createNanoModel, NanoTrainer, nanoChatTemplate, parseNanoConfig, createNanoEngine } from '@xfer/engine-nano';
import { wasmMatmul } from '../engine-nano/src/kernels/wasm-matmul.ts';
import { setFloat32Backend } from '../engine-nano/src/kernels/backend.ts';
import { createChatTemplate, evaluateNanoSuite, formatNanoSuiteTable } from '@xfer/eval';
import { resolvePretrainPreset, runNanoPretraining } from '@xfer/train';
setFloat32Backend(wasmMatmul);
const [d, L, steps, batch, lr, out, items] = process.argv.slice(2);
const dim = Number(d);
const preset = resolvePretrainPreset('nano', {
  architecture: { vocab_size: 264, hidden_size: dim, intermediate_size: 3 * dim, num_hidden_layers: Number(L), num_attention_heads: Math.max(2, dim / 32), num_key_value_heads: Math.max(1, dim / 64), head_dim: 32, max_position_embeddings: 256 },
  steps: Number(steps), batchSize: Number(batch), microBatchSize: Number(batch), learningRate: Number(lr), warmupSteps: 30,
});
const template = createChatTemplate(nanoChatTemplate);
const t0 = performance.now();
const record = await runNanoPretraining({
  preset, seed: 0, outputDir: out!, render: (m, o) => template.render(m, o),
  createTrainer: (arch, o) => new NanoTrainer(createNanoModel(parseNanoConfig(arch), o.seed), { optimizer: o.optimizer }),
  onStep: (s) => { if (s.step <= 30 || s.step % 25 === 0) process.stderr.write(`step ${s.step} loss ${s.loss.toFixed(3)} g ${s.gradNorm.toFixed(3)} lr ${s.learningRate.toExponential(2)} tok/s ${(s.tokens / s.seconds).toFixed(0)} t ${s.seconds.toFixed(0)}\n`); },
});
process.stderr.write(`train seconds ${record.seconds.toFixed(0)} tokens ${record.tokens}\n`);
const engine = await createNanoEngine(out!);
const result = await evaluateNanoSuite(engine, { limit: Number(items ?? 30) });
console.log(formatNanoSuiteTable(result));
