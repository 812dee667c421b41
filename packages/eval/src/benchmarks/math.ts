import type { BenchmarkItem } from '@xfer/core';
import { z } from 'zod';
import { parseJsonLines } from '../data/read-records.js';
import {
  accuracyMetrics,
  applyLimit,
  type Benchmark,
  defineBenchmark,
  type LoadOptions,
} from '../registry/benchmark.js';
import { mathHendrycksScorer, mathLmEvalScorer, mathSymbolicScorer } from '../scorers/math/math-scorers.js';
import { readHubRecords, readLocalRecords } from './load-helpers.js';

/** evalchemy MATH500/AIME user turn. */
export function evalchemyMathPrompt(problem: string): string {
  return `Problem: ${problem}\nMark your solution with \\boxed\nAnswer:`;
}

/** lm-eval `olympiad` / `AIME` / `aime25` / `hendrycks_math_500` user turn. */
export function lmEvalMathPrompt(problem: string): string {
  return `Solve the following math problem. Present the final answer in the format: Final Answer: \\boxed{your_answer}.\nProblem: ${problem}\nAnswer:`;
}

const sampled = (samples: number) =>
  ({
    sampling: { temperature: 0.7, topP: 1, topK: -1, maxTokens: 32768, seed: 0 },
    samples,
    seedPerSample: 'run-seed-plus-index',
  }) as const;

const mathMetrics = ['accuracy', 'math-symbolic_accuracy', 'truncated'] as const;

function mathItem(
  benchmark: string,
  id: string,
  problem: string,
  answer: string,
  meta: Record<string, unknown>,
): BenchmarkItem {
  return { id, benchmark, input: { problem }, target: answer, meta };
}

const Math500RecordSchema = z.object({
  problem: z.string().min(1),
  solution: z.string(),
  answer: z.string(),
  subject: z.string(),
  level: z.number().int(),
  unique_id: z.string().min(1),
});

/** MATH-500: evalchemy `MATH500` (one sample at T=0.7, boxed + `is_equiv` against `answer`). */
export const math500 = defineBenchmark({
  id: 'math-500',
  title: 'MATH-500',
  group: 'math',
  kind: 'generative',
  promptVersion: 'evalchemy-v1',
  protocol: 'last \\boxed{} (hendrycks) + is_equiv vs answer; accuracy',
  sources: [
    {
      id: 'local',
      description: 'HuggingFaceH4/MATH-500 test.jsonl (paper repo copy)',
      files: ['math-500/test.jsonl'],
    },
    {
      id: 'hub',
      description: 'HuggingFaceH4/MATH-500',
      hub: [{ repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl' }],
    },
  ],
  decoding: sampled(1),
  scorers: { primary: mathHendrycksScorer, extra: [mathSymbolicScorer] },
  metrics: mathMetrics,
  async load(options: LoadOptions = {}) {
    const records =
      options.source === 'hub'
        ? await readHubRecords(options, math500.sources[1]!.hub!, Math500RecordSchema)
        : await readLocalRecords(options, 'math-500', ['test.jsonl'], (text, file) =>
            parseJsonLines(text, Math500RecordSchema, file),
          );
    return applyLimit(
      records.map(({ value }) =>
        mathItem('math-500', value.unique_id, value.problem, value.answer, {
          subject: value.subject,
          level: value.level,
          solution: value.solution,
        }),
      ),
      options.limit,
    );
  },
  prompt(item) {
    return [{ role: 'user', content: evalchemyMathPrompt(String(item.input.problem)) }];
  },
  aggregate: accuracyMetrics,
});

const EvalchemyAime24Schema = z.object({
  id: z.string().min(1),
  problem: z.string().min(1),
  expected_answer: z.union([z.string(), z.number()]).transform(String),
});
const LmEvalAimeSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  problem: z.string().min(1),
  answer: z.union([z.string(), z.number()]).transform(String),
});

function aimeBenchmark(
  id: 'aime24' | 'aime25',
  title: string,
  evalchemyFile: string,
  lmEvalFile: string,
  schema: typeof EvalchemyAime24Schema | typeof LmEvalAimeSchema,
): Benchmark {
  const benchmark: Benchmark = defineBenchmark({
    id,
    title,
    group: 'math',
    kind: 'generative',
    promptVersion: 'evalchemy-v1',
    protocol: 'last \\boxed{} (hendrycks) + is_equiv; accuracy averaged over 10 repeats',
    sources: [
      { id: 'local', description: 'evalchemy copy (paper default)', files: [`${id}/${evalchemyFile}`] },
      { id: 'lm-eval', description: 'lm-eval copy (variant "lm-eval")', files: [`${id}/${lmEvalFile}`] },
    ],
    decoding: sampled(10),
    scorers: { primary: mathHendrycksScorer, extra: [mathLmEvalScorer, mathSymbolicScorer] },
    metrics: mathMetrics,
    async load(options: LoadOptions = {}) {
      const lmEval = options.variant === 'lm-eval';
      const records = await readLocalRecords(
        options,
        id,
        [lmEval ? lmEvalFile : evalchemyFile],
        (text, file) => parseJsonLines(text, lmEval ? LmEvalAimeSchema : schema, file),
      );
      return applyLimit(
        records.map(({ value }) => {
          const answer = 'expected_answer' in value ? value.expected_answer : value.answer;
          return mathItem(id, value.id, value.problem, answer, { variant: lmEval ? 'lm-eval' : 'evalchemy' });
        }),
        options.limit,
      );
    },
    prompt(item) {
      const problem = String(item.input.problem);
      const content =
        item.meta.variant === 'lm-eval' ? lmEvalMathPrompt(problem) : evalchemyMathPrompt(problem);
      return [{ role: 'user', content }];
    },
    aggregate: accuracyMetrics,
  });
  return benchmark;
}

/** AIME 2024 (30 problems; evalchemy, 10 samples at T=0.7). */
export const aime24 = aimeBenchmark(
  'aime24',
  'AIME24',
  'evalchemy_aime24.jsonl',
  'lm-eval_test.jsonl',
  EvalchemyAime24Schema,
);
/** AIME 2025 I+II (30 problems; evalchemy, 10 samples at T=0.7). */
export const aime25 = aimeBenchmark(
  'aime25',
  'AIME25',
  'evalchemy_aime25.jsonl',
  'lm-eval_aimo-validation-aime25.jsonl',
  LmEvalAimeSchema,
);

const OlympiadRecordSchema = z.object({
  id: z.union([z.number().int(), z.string()]).transform(String),
  subfield: z.string().nullish(),
  question: z.string().min(1),
  solution: z.array(z.string()).nullish(),
  final_answer: z.array(z.string()).min(1),
  is_multiple_answer: z.boolean().nullish(),
  answer_type: z.string().nullish(),
});

/** OlympiadBench OE_TO_maths_en_COMP (lm-eval `olympiad`: greedy, boxed vs `final_answer[0]`). */
export const olympiadBench = defineBenchmark({
  id: 'olympiadbench',
  title: 'OlympiadBench',
  group: 'math',
  kind: 'generative',
  promptVersion: 'lm-eval-olympiad-v1',
  protocol: 'last \\boxed{} + lm-eval is_equiv (leading zeros, trailing .0) vs final_answer[0]; exact_match',
  sources: [
    {
      id: 'local',
      description: 'paper repo eval_data/olympiadbench/test.jsonl',
      files: ['olympiadbench/test.jsonl'],
    },
  ],
  decoding: {
    sampling: { temperature: 0, maxTokens: 32768, stop: ['Problem:'] },
    samples: 1,
    seedPerSample: 'fixed',
  },
  scorers: { primary: mathLmEvalScorer, extra: [mathHendrycksScorer, mathSymbolicScorer] },
  metrics: mathMetrics,
  async load(options: LoadOptions = {}) {
    const records = await readLocalRecords(options, 'olympiadbench', ['test.jsonl'], (text, file) =>
      parseJsonLines(text, OlympiadRecordSchema, file),
    );
    return applyLimit(
      records.map(({ value }) =>
        mathItem('olympiadbench', value.id, value.question, value.final_answer[0]!, {
          subfield: value.subfield ?? null,
          answerType: value.answer_type ?? null,
          isMultipleAnswer: value.is_multiple_answer ?? false,
          finalAnswers: value.final_answer,
        }),
      ),
      options.limit,
    );
  },
  prompt(item) {
    return [{ role: 'user', content: lmEvalMathPrompt(String(item.input.problem)) }];
  },
  aggregate: accuracyMetrics,
});
