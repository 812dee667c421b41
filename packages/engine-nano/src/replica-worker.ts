/**
 * The replica worker (see `replica.ts`): holds a model whose tensors are views into the weights the main
 * thread copies into shared memory, and computes one shard per message with the same functions the main
 * thread uses.
 */
import { parentPort } from 'node:worker_threads';
import { NanoEngine } from './engine.js';
import { backendFor } from './kernels/backend.js';
import { assembleModel, FloatArena, type NanoModel, withArena } from './model.js';
import { completionLogprobs, policyLoss } from './policy-loss.js';
import type { ReplicaReply, ReplicaRequest } from './replica.js';
import { forward, type Gradients, logitsFor } from './transformer.js';

const port = parentPort!;
const arena = new FloatArena();
let model: NanoModel | undefined;
let gradients: Gradients | undefined;

/** Abort controllers of the generate calls in progress, by call id. */
const generations = new Map<number, AbortController>();

async function generate(request: Extract<ReplicaRequest, { kind: 'generate' }>): Promise<null> {
  if (!model) throw new Error('replica used before init');
  const controller = new AbortController();
  generations.set(request.id, controller);
  try {
    // requests are told apart by position (ids need not be unique)
    const tagged = request.requests.map((item, index) => ({ ...item, id: String(index) }));
    const engine = new NanoEngine(model);
    for await (const result of engine.generate(tagged, { signal: controller.signal })) {
      const index = Number(result.id);
      port.postMessage({
        id: request.id,
        index,
        partial: { ...result, id: request.requests[index]!.id },
      } satisfies ReplicaReply);
    }
    return null;
  } finally {
    generations.delete(request.id);
  }
}

function handle(request: Exclude<ReplicaRequest, { kind: 'init' | 'generate' | 'cancel' }>): unknown {
  if (!model || !gradients) throw new Error('replica used before init');
  const current = model;
  const backend = backendFor('float32');
  switch (request.kind) {
    case 'loss': {
      for (const gradient of gradients.values()) gradient.fill(0);
      const into = gradients;
      return withArena(arena, () =>
        policyLoss(current, backend, request.sequences, request.loss, {
          gradients: into,
          scale: request.scale,
          batch: request.batch,
          ...(request.referenceLogprobs ? { referenceLogprobs: request.referenceLogprobs } : {}),
        }),
      );
    }
    case 'logprobs':
      return withArena(arena, () =>
        completionLogprobs(current, backend, request.sequences, request.firstIndex),
      );
    case 'logits':
      return withArena(arena, () => {
        const { normed } = forward(current, backend, { tokens: request.tokens, segments: request.segments });
        const { logits } = logitsFor(current, backend, normed, request.rows);
        return Float32Array.from(logits);
      });
  }
}

port.on('message', (request: ReplicaRequest) => {
  if (request.kind === 'init') {
    const tensors = new Map<string, Float32Array>();
    const grads: Gradients = new Map();
    let offset = 0;
    for (const [name, length] of request.layout) {
      tensors.set(name, new Float32Array(request.weights, offset * 4, length));
      grads.set(name, new Float32Array(request.gradients, offset * 4, length));
      offset += length;
    }
    model = assembleModel(request.config, 'float32', tensors);
    gradients = grads;
    return;
  }
  if (request.kind === 'cancel') {
    generations.get(request.id)?.abort();
    return;
  }
  if (request.kind === 'generate') {
    generate(request).then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies ReplicaReply),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        } satisfies ReplicaReply),
    );
    return;
  }
  let reply: ReplicaReply;
  try {
    const value = handle(request);
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const transfer = reply.ok && reply.value instanceof Float32Array ? [reply.value.buffer as ArrayBuffer] : [];
  port.postMessage(reply, transfer);
});
