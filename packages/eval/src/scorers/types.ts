import type { BenchmarkItem, FinishReason, ScoreResult, Verdict } from '@xfer/core';

/** What a generative scorer sees: the item, the raw completion and how it ended. */
export interface GenerativeScoreInput {
  item: BenchmarkItem;
  /** The raw model completion (reasoning included; scorers strip `</think>` themselves where the protocol says so). */
  completion: string;
  finishReason?: FinishReason;
}

/**
 * A scorer is a pure function with a name and a version; the version changes whenever the extraction or the
 * comparison changes, and it is part of every request hash.
 */
export interface GenerativeScorer {
  readonly kind: 'generative';
  readonly name: string;
  readonly version: string;
  score(input: GenerativeScoreInput): Verdict | Promise<Verdict>;
}

/** Log-likelihood multiple choice: scored from an engine's per-token logprobs of each choice. */
export interface LoglikelihoodScoreInput {
  item: BenchmarkItem;
  /** One score result per choice, in `item.choices` order. */
  choices: readonly ScoreResult[];
}

export interface LoglikelihoodScorer {
  readonly kind: 'loglikelihood';
  readonly name: string;
  readonly version: string;
  score(input: LoglikelihoodScoreInput): Verdict;
}

export type Scorer = GenerativeScorer | LoglikelihoodScorer;
