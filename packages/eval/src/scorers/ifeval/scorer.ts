import type { BenchmarkItem, Verdict } from '@xfer/core';
import type { GenerativeScoreInput, GenerativeScorer } from '../types.js';
import {
  type CompiledIfevalRecord,
  compileIfevalRecord,
  evaluateIfevalResponse,
  type IfevalRecord,
  stripThinking,
} from './evaluate.js';

/**
 * The IFEval scorer version. Bump it whenever a checker, the loose variants, the thinking strip or the language
 * detector changes.
 */
export const IFEVAL_SCORER_VERSION = 'ifeval-1';

/**
 * Wrap an IFEval record as a BenchmarkItem the scorer understands: `input.prompt` for the prompt builder and the
 * whole record as `target`.
 */
export function ifevalItemFromRecord(record: IfevalRecord, benchmark = 'ifeval'): BenchmarkItem {
  return {
    id: String(record.key),
    benchmark,
    input: { prompt: record.prompt },
    target: {
      key: record.key,
      prompt: record.prompt,
      instruction_id_list: record.instruction_id_list,
      kwargs: record.kwargs,
    },
    meta: {},
  };
}

const compiledByTarget = new WeakMap<object, CompiledIfevalRecord>();

function compiledFor(item: BenchmarkItem): CompiledIfevalRecord {
  // The record lives in `target`; an item whose `target` is absent may carry it in `input` instead.
  const source = (item.target ?? item.input) as unknown;
  if (typeof source === 'object' && source !== null) {
    const cached = compiledByTarget.get(source);
    if (cached) return cached;
    const compiled = compileIfevalRecord(source, { file: `item ${item.id}` });
    compiledByTarget.set(source, compiled);
    return compiled;
  }
  return compileIfevalRecord(source, { file: `item ${item.id}` });
}

/**
 * Score one IFEval response: strip reasoning up to `</think>`, then run every instruction's checker strict and
 * loose. `correct` is the prompt-level strict verdict; `details` holds all four levels, the per-instruction
 * lists and `truncated` when the completion hit the token limit.
 */
export function scoreIfeval(input: GenerativeScoreInput): Verdict {
  const compiled = compiledFor(input.item);
  const response = stripThinking(input.completion);
  const result = evaluateIfevalResponse(compiled, response);
  return {
    grader: 'ifeval',
    graderVersion: IFEVAL_SCORER_VERSION,
    extracted: response,
    correct: result.promptStrict,
    score: result.promptStrict ? 1 : 0,
    details: {
      promptLevelStrict: result.promptStrict,
      promptLevelLoose: result.promptLoose,
      instructionIds: result.instructionIds,
      instructionLevelStrict: result.strict,
      instructionLevelLoose: result.loose,
      truncated: input.finishReason === 'length',
    },
  };
}

/** The IFEval generative scorer (Google's 25 instruction checkers, strict and loose). */
export const ifevalScorer: GenerativeScorer = {
  kind: 'generative',
  name: 'ifeval',
  version: IFEVAL_SCORER_VERSION,
  score: scoreIfeval,
};
