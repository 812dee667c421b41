/**
 * @module @xfer/engine-torch — the TypeScript side of the Python worker (`workers/torch`): spawn (python or
 * torchrun) with an allow-listed environment, byte-level NDJSON framing, the `ready` handshake, request ids,
 * progress, cancel, timeouts and crash handling, and the core `EngineV1` / `TrainerV1` over the protocol.
 */
export { allowedEnvironment, workerEnvironment } from './environment.js';
export { NdjsonSplitter, TailBuffer } from './framing.js';
export {
  checkProtocolSchema,
  defaultWorkerDirectory,
  protocolSchemaPath,
  renderProtocolSchema,
  writeProtocolSchema,
} from './protocol-schema.js';
export {
  createTorchEngine,
  createTorchTrainer,
  TorchEngine,
  type TorchEngineOptions,
  TorchTrainer,
  torchEngineFactory,
} from './torch-engine.js';
export {
  errorFromWire,
  type ParamsOf,
  type ReadyFrame,
  type RequestOptions,
  type ResultOf,
  TorchWorker,
  type TorchWorkerOptions,
  type WorkerLauncher,
  type WorkerLogEntry,
} from './torch-worker.js';
