import type {
  BenchmarkItem,
  EngineV1,
  FinishReason,
  SamplingParams,
  TrainerV1,
  TrainingConfig,
} from '@xfer/core';
import type { GenerativeScorer } from '@xfer/eval';

/** The math-only training task: items, how to render their prompts, and the evaluation scorer as reward. */
export interface TrainTask {
  items: readonly BenchmarkItem[];
  /** The rendered prompt text (chat template applied) the policy is trained and sampled on. */
  renderPrompt(item: BenchmarkItem, options: { enableThinking: boolean }): string;
  /** The same scorer module evaluation uses; reward = 1 when it judges the response correct, else 0. */
  scorer: GenerativeScorer;
  /** Text appended to every trained completion so the policy learns to stop (e.g. `<|im_end|>`). */
  endOfTurn: string;
  /** Stop sequences for rollouts. */
  stop: readonly string[];
}

/** One supervised example: a rendered prompt and the completion to imitate. */
export interface SftExample {
  itemId: string;
  prompt: string;
  completion: string;
}

export interface MetricRecord {
  name: string;
  step: number;
  value: number;
}

/** Where the driver reports what it does; the CLI backs it with the store. */
export interface TrainingRecorder {
  metrics(points: readonly MetricRecord[]): void | Promise<void>;
  checkpoint(info: { step: number; path: string; sha256: string; bytes: number }): void | Promise<void>;
}

export interface TrainingProgress {
  step: number;
  totalSteps: number;
  loss: number;
  reward?: number;
  tokensPerSecond: number;
  etaSeconds: number;
}

export interface RunTrainingOptions {
  config: TrainingConfig;
  trainer: TrainerV1;
  task: TrainTask;
  /** Required when the recipe samples from a teacher (off-policy RL). */
  teacher?: EngineV1;
  /** Required for SFT recipes: the accepted teacher (or policy) responses. */
  sftData?: readonly SftExample[];
  /** Checkpoints go to `<outputDir>/checkpoints/step-NNNNNN`, the final model to `<outputDir>/model`. */
  outputDir: string;
  recorder?: TrainingRecorder;
  /**
   * Periodic evaluation (every `config.evalEvery` steps and at the end); returns named figures. At the end
   * `savedModel` is the final model's directory (the weights of that step, already written); otherwise it
   * is undefined and the callback takes the weights from the trainer itself.
   */
  evaluate?: (step: number, savedModel?: string) => Promise<Record<string, number>>;
  onProgress?: (progress: TrainingProgress) => void;
  signal?: AbortSignal;
  /** Continue from the latest checkpoint in `outputDir` when there is one. */
  resume?: boolean;
}

export interface TrainingSummary {
  steps: number;
  resumedFrom: number | null;
  finalModel: string;
  finalSha256: string;
  seconds: number;
  last: Record<string, number>;
}

export interface RolloutRecord {
  itemId: string;
  group: number;
  completion: string;
  finishReason: FinishReason;
  tokenIds?: number[];
  reward: number;
  correct: boolean;
}

export type RolloutSampling = Partial<SamplingParams>;
