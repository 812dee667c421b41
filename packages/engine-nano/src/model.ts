import { type NanoConfig, type NanoConfigInput, parseNanoConfig } from './config.js';
import type { FloatArray } from './kernels/matmul.js';
import { SeededRandom } from './random.js';

/** Storage precision of a model's tensors: float32 normally, float64 for gradient checks. */
export type NanoDtype = 'float32' | 'float64';

/** The weights of one decoder block, as views into the model's named tensors. */
export interface NanoLayerWeights {
  inputNorm: FloatArray;
  qProj: FloatArray;
  kProj: FloatArray;
  vProj: FloatArray;
  oProj: FloatArray;
  qNorm: FloatArray;
  kNorm: FloatArray;
  postNorm: FloatArray;
  gateProj: FloatArray;
  upProj: FloatArray;
  downProj: FloatArray;
}

/** A nano model: its config and its tensors, named as `transformers` names Qwen3's. */
export interface NanoModel {
  readonly config: NanoConfig;
  readonly dtype: NanoDtype;
  /** Every tensor by its Hugging Face name, in canonical order. */
  readonly tensors: Map<string, FloatArray>;
  readonly embed: FloatArray;
  readonly finalNorm: FloatArray;
  readonly layers: NanoLayerWeights[];
}

/** Name and shape of every tensor of a config, in the order `transformers` lists Qwen3's. */
export function tensorShapes(config: NanoConfig): { name: string; shape: number[] }[] {
  const d = config.hidden_size;
  const q = config.num_attention_heads * config.head_dim;
  const kv = config.num_key_value_heads * config.head_dim;
  const f = config.intermediate_size;
  const shapes = [{ name: 'model.embed_tokens.weight', shape: [config.vocab_size, d] }];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    shapes.push(
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, d] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, d] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, d] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [d, q] },
      { name: `${p}.self_attn.q_norm.weight`, shape: [config.head_dim] },
      { name: `${p}.self_attn.k_norm.weight`, shape: [config.head_dim] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [f, d] },
      { name: `${p}.mlp.up_proj.weight`, shape: [f, d] },
      { name: `${p}.mlp.down_proj.weight`, shape: [d, f] },
      { name: `${p}.input_layernorm.weight`, shape: [d] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [d] },
    );
  }
  shapes.push({ name: 'model.norm.weight', shape: [d] });
  return shapes;
}

/**
 * A bump allocator for the float buffers of one training call: every buffer is a zeroed view into a
 * few large blocks that are reused call after call. Each fresh `Float32Array` is external memory to V8,
 * and a training step allocates hundreds of them; with a large heap alive (a pretraining corpus), that
 * pressure set off a full mark-compact about twice a second, a fifth of pretraining's time. Nothing
 * allocated inside `withArena` may outlive it.
 */
export class FloatArena {
  private readonly single = new ArenaBlocks((length) => new Float32Array(length));
  private readonly double = new ArenaBlocks((length) => new Float64Array(length));

  take(length: number): Float32Array {
    return this.single.take(length);
  }

  take64(length: number): Float64Array {
    return this.double.take(length);
  }

  /** Forget every buffer handed out; what the last call needed becomes one block per precision. */
  reset(): void {
    this.single.reset();
    this.double.reset();
  }
}

/** The blocks of one precision. */
class ArenaBlocks<T extends Float32Array | Float64Array> {
  private blocks: T[] = [];
  private block = 0;
  private used = 0;

  constructor(private readonly create: (length: number) => T) {}

  take(length: number): T {
    let current = this.blocks[this.block];
    if (current && this.used + length > current.length) {
      this.block++;
      this.used = 0;
      current = this.blocks[this.block];
    }
    if (!current || length > current.length) {
      current = this.create(Math.max(length, 1 << 20));
      this.blocks.splice(this.block, 0, current);
    }
    const view = current.subarray(this.used, this.used + length) as T;
    view.fill(0);
    this.used += length;
    return view;
  }

  reset(): void {
    if (this.blocks.length > 1) {
      const total = this.blocks.reduce((sum, block) => sum + block.length, 0);
      this.blocks = [this.create(total)];
    }
    this.block = 0;
    this.used = 0;
  }
}

let activeArena: FloatArena | undefined;

/** Run `body` with float32 buffers taken from `arena` (reset first). */
export function withArena<T>(arena: FloatArena, body: () => T): T {
  const previous = activeArena;
  arena.reset();
  activeArena = arena;
  try {
    return body();
  } finally {
    activeArena = previous;
  }
}

/** Allocate a zeroed buffer of the model's precision (from the active arena, if any). */
export function allocate(dtype: NanoDtype, length: number): FloatArray {
  if (dtype === 'float64') return activeArena ? activeArena.take64(length) : new Float64Array(length);
  return activeArena ? activeArena.take(length) : new Float32Array(length);
}

/** Build a model around existing tensors (checked for presence and size by the caller). */
export function assembleModel(
  config: NanoConfig,
  dtype: NanoDtype,
  tensors: Map<string, FloatArray>,
): NanoModel {
  const get = (name: string): FloatArray => {
    const tensor = tensors.get(name);
    if (!tensor) throw new Error(`missing tensor ${name}`);
    return tensor;
  };
  const layers: NanoLayerWeights[] = [];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    layers.push({
      inputNorm: get(`${p}.input_layernorm.weight`),
      qProj: get(`${p}.self_attn.q_proj.weight`),
      kProj: get(`${p}.self_attn.k_proj.weight`),
      vProj: get(`${p}.self_attn.v_proj.weight`),
      oProj: get(`${p}.self_attn.o_proj.weight`),
      qNorm: get(`${p}.self_attn.q_norm.weight`),
      kNorm: get(`${p}.self_attn.k_norm.weight`),
      postNorm: get(`${p}.post_attention_layernorm.weight`),
      gateProj: get(`${p}.mlp.gate_proj.weight`),
      upProj: get(`${p}.mlp.up_proj.weight`),
      downProj: get(`${p}.mlp.down_proj.weight`),
    });
  }
  return {
    config,
    dtype,
    tensors,
    embed: get('model.embed_tokens.weight'),
    finalNorm: get('model.norm.weight'),
    layers,
  };
}

/**
 * A freshly initialised model: matrices ~ N(0, 0.02²) (Qwen3's `initializer_range`), norm weights 1. The
 * same config and seed give bit-identical weights.
 */
export function createNanoModel(
  config: NanoConfigInput,
  seed: number,
  options: { dtype?: NanoDtype } = {},
): NanoModel {
  const parsed = parseNanoConfig(config);
  const dtype = options.dtype ?? 'float32';
  const random = new SeededRandom(seed);
  const tensors = new Map<string, FloatArray>();
  for (const { name, shape } of tensorShapes(parsed)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = allocate(dtype, size);
    if (shape.length === 1) data.fill(1);
    else for (let i = 0; i < size; i++) data[i] = 0.02 * random.nextNormal();
    tensors.set(name, data);
  }
  return assembleModel(parsed, dtype, tensors);
}

/** A deep copy of a model (optionally in another precision). */
export function cloneModel(model: NanoModel, dtype: NanoDtype = model.dtype): NanoModel {
  const tensors = new Map<string, FloatArray>();
  for (const [name, data] of model.tensors) {
    const copy = allocate(dtype, data.length);
    copy.set(data);
    tensors.set(name, copy);
  }
  return assembleModel(model.config, dtype, tensors);
}
