import type { EngineV1, OptimizerConfig, TrainerV1 } from '@xfer/core';

/**
 * What the pipeline needs from the outside world, injected by the caller (the CLI or the server): the
 * pipeline never imports an engine package, so the same code runs engine-nano on a laptop and the torch
 * worker or an OpenAI-compatible server on GPU nodes.
 */
export interface PipelineEngines {
  /** An inference engine over the model checkpoint in `directory`. */
  createEngine(directory: string): Promise<EngineV1>;
  /** A trainer whose policy starts from the checkpoint in `directory`. */
  createTrainer(directory: string, options: { optimizer: OptimizerConfig; seed: number }): Promise<TrainerV1>;
  /** The SFT teacher in thinking or non-thinking mode. */
  createTeacher(mode: 'think' | 'no-think'): Promise<EngineV1>;
}
