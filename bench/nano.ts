/**
 * `pnpm bench:nano`: engine-nano against a PyTorch implementation of the same Qwen3 architecture
 * (bench/nano_torch.py under Debian's /usr/bin/python3 with OpenBLAS), same sizes, same thread count,
 * same machine, one run. Prints absolute tokens/s of each and, last, one line
 * `train_ratio=<x> gen_ratio=<y> score_ratio=<z>` (xfer tokens/s ÷ torch tokens/s).
 *
 * Options: --threads N (both sides; default: what engine-nano picks, min(2, cores)), --quick (fewer repeats).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createNanoModel,
  type NanoConfig,
  NanoEngine,
  NanoTrainer,
  nanoComputeInfo,
} from '@xfer/engine-nano';

const quick = process.argv.includes('--quick');
const threadsFlag = process.argv.indexOf('--threads');
const config: NanoConfig = {
  vocab_size: 264,
  hidden_size: 256,
  intermediate_size: 768,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 32,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 512,
  tie_word_embeddings: true,
};
const sizes = {
  train: { batch: 8, seq: 256, steps: quick ? 2 : 4 },
  generate: { batch: 16, prompt: 16, newTokens: 128, repeats: quick ? 1 : 2 },
  score: { batch: 16, seq: 256, repeats: quick ? 1 : 3 },
};
// --threads N sets both sides (engine-nano reads XFER_NANO_THREADS when its kernels first load)
if (threadsFlag >= 0) process.env.XFER_NANO_THREADS = process.argv[threadsFlag + 1];
const compute = nanoComputeInfo();
const threads = compute.threads;

/** Fastest of `repeats` runs (the machine is shared: the minimum is the least disturbed). */
async function best(run: () => Promise<unknown>, repeats: number): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
}

async function benchXfer() {
  const next = lcg(1);
  const trainer = new NanoTrainer(createNanoModel(config, 0), { optimizer: { weightDecay: 0.01 } });
  const loss = { clip: null, klBeta: 0, aggregation: 'token-mean' as const };
  const batch = Array.from({ length: sizes.train.batch }, () => ({
    promptTokenIds: [next()],
    completionTokenIds: Array.from({ length: sizes.train.seq }, () => next()),
  }));
  const trainStep = async () => {
    await trainer.forwardBackward(batch, loss);
    await trainer.optimizerStep({ learningRate: 1e-4, gradClip: 1 });
  };
  await trainStep();
  const trainMs = await best(trainStep, sizes.train.steps);

  const engine = new NanoEngine(trainer.model, { maxBatchSize: sizes.generate.batch });
  const text = (length: number) => String.fromCharCode(...Array.from({ length }, () => 97 + (next() % 26)));
  const requests = Array.from({ length: sizes.generate.batch }, (_, i) => ({
    id: `g${i}`,
    prompt: text(sizes.generate.prompt),
    sampling: {
      temperature: 1,
      topP: 1,
      topK: -1,
      maxTokens: sizes.generate.newTokens,
      stop: [],
      seed: i,
      logprobs: true,
    },
  }));
  let generated = 0;
  const generate = async () => {
    generated = 0;
    for await (const result of engine.generate(requests)) generated += result.completionTokens;
  };
  await generate();
  const generateMs = await best(generate, sizes.generate.repeats);

  const scoreRequests = Array.from({ length: sizes.score.batch }, (_, i) => ({
    id: `s${i}`,
    context: text(sizes.score.seq / 2),
    continuation: text(sizes.score.seq / 2),
    fullDistribution: false,
  }));
  await engine.score(scoreRequests);
  const scoreMs = await best(() => engine.score(scoreRequests), sizes.score.repeats);
  await trainer.close();
  return {
    train_tokens_per_s: (sizes.train.batch * sizes.train.seq) / (trainMs / 1000),
    train_step_ms: trainMs,
    generate_tokens_per_s: generated / (generateMs / 1000),
    generated_tokens: generated,
    score_tokens_per_s: (sizes.score.batch * sizes.score.seq) / (scoreMs / 1000),
  };
}

function benchTorch() {
  const script = fileURLToPath(new URL('./nano_torch.py', import.meta.url));
  const output = execFileSync('/usr/bin/python3', [script, JSON.stringify({ threads, config, ...sizes })], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as {
    train_tokens_per_s: number;
    generate_tokens_per_s: number;
    score_tokens_per_s: number;
    torch: string;
  };
}

const round = (value: number) => Math.round(value);
console.log(
  `sizes: d_model=${config.hidden_size} layers=${config.num_hidden_layers} heads=${config.num_attention_heads} kv_heads=${config.num_key_value_heads} ` +
    `ffn=${config.intermediate_size} vocab=${config.vocab_size}; train ${sizes.train.batch}x${sizes.train.seq} tokens/step; ` +
    `generate batch ${sizes.generate.batch}, prompt ${sizes.generate.prompt}, ${sizes.generate.newTokens} new tokens; score ${sizes.score.batch}x${sizes.score.seq}`,
);
console.log(`xfer compute: ${compute.kernels}, ${compute.threads} thread(s); torch threads: ${threads}`);
const xfer = await benchXfer();
console.log(
  `xfer  train ${round(xfer.train_tokens_per_s)} tok/s (${xfer.train_step_ms.toFixed(0)} ms/step)  generate ${round(xfer.generate_tokens_per_s)} tok/s (${xfer.generated_tokens} tokens)  score ${round(xfer.score_tokens_per_s)} tok/s`,
);
const torch = benchTorch();
console.log(
  `torch train ${round(torch.train_tokens_per_s)} tok/s  generate ${round(torch.generate_tokens_per_s)} tok/s  score ${round(torch.score_tokens_per_s)} tok/s  (torch ${torch.torch})`,
);
const ratio = (a: number, b: number) => (a / b).toFixed(2);
console.log(
  `train_ratio=${ratio(xfer.train_tokens_per_s, torch.train_tokens_per_s)} gen_ratio=${ratio(xfer.generate_tokens_per_s, torch.generate_tokens_per_s)} score_ratio=${ratio(xfer.score_tokens_per_s, torch.score_tokens_per_s)}`,
);
