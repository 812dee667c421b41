import type { BenchmarkItem } from '@xfer/core';
import { mathHendrycksScorer } from '../../scorers/math/math-scorers.js';
import { parseMathProblem } from '../teacher.js';
import type { NanoTask } from '../types.js';
import { storedPrompt } from './shared.js';

/**
 * Nano math prompts carry no answer-format instruction (to keep byte-level sequences short): the base learns
 * `\boxed{}` from the corpus, and the RL prompt builder appends the paper's suffix itself. Kept empty for
 * callers that build prompts the same way.
 */
export const MATH_INSTRUCTION = '';

const mathMetric =
  "accuracy: last \\boxed{} after the reasoning, Hendrycks is_equiv against the reference (the paper's MATH scorer; greedy, 1 sample)";

/**
 * The line that states an item's result, with the one intermediate a plain solution writes down:
 * `47+38=85`, `(3+4)*2=7*2=14`, `3*4+5=12+5=17`, `3x+4=19, 3x=15, x=5`, `47 mod 5=2`.
 */
function statementOf(item: BenchmarkItem): string {
  const input = item.input as Record<string, unknown>;
  if (typeof input.expression === 'string') {
    return `${input.expression}=${intermediateOf(input.expression)}${item.target}`;
  }
  if (typeof input.equation === 'string') {
    const { a, b, c } = input as { a: number; b: number; c: number };
    const isolated = b === 0 || a === 1 ? '' : `${a}x=${c - b}, `;
    return `${input.equation}, ${isolated}x=${item.target}`;
  }
  if (typeof input.n === 'number' && typeof input.m === 'number')
    return `${input.n} mod ${input.m}=${item.target}`;
  throw new Error(`nano math item ${item.id} has no expression, equation or n/m`);
}

/** `(3+4)*2` → `7*2=`, `3*4+5` → `12+5=`, a one-operation expression → ``. */
function intermediateOf(expression: string): string {
  const problem = parseMathProblem(`Compute ${expression}.`);
  switch (problem?.kind) {
    case 'bracket': {
      const inner = problem.operator === '+' ? problem.a + problem.b : problem.a - problem.b;
      return `${inner}*${problem.c}=`;
    }
    case 'product':
      return `${problem.a * problem.b}${problem.operator}${problem.c}=`;
    default:
      return '';
  }
}

/**
 * The base answer: the result stated in one line (with at most one intermediate), then boxed. No worked
 * steps (those are the teacher's style): a plain answer as a base model's pretraining text would give it.
 */
function boxedAnswer(item: BenchmarkItem): string {
  return `${statementOf(item)}. The answer is \\boxed{${item.target}}.`;
}

function statement(item: BenchmarkItem): string {
  return `${statementOf(item)}.`;
}

/** MATH-500 analogue: two-digit addition and subtraction. */
/**
 * Generation budget of the math tasks: room for a teacher-style thinking trace (at most ~210 bytes) and its
 * answer, as the paper evaluated with budgets far above its models' answers. A base that answers in 25 bytes
 * stops long before it; a model tuned on worked solutions must not be cut off mid-solution.
 */
export const MATH_MAX_TOKENS = 256;

/** What every nano math task shares: group, metric, budget, prompt, base answer, plain statement, scorer. */
const mathTaskFields = {
  group: 'math',
  metric: mathMetric,
  kind: 'generative',
  chance: 0,
  maxTokens: MATH_MAX_TOKENS,
  prompt: storedPrompt,
  answer: boxedAnswer,
  statement,
  scorer: mathHendrycksScorer,
} satisfies Partial<NanoTask>;

export const nanoArithmetic: NanoTask = {
  ...mathTaskFields,
  id: 'nano-arithmetic',
  mirrors: 'math-500',
  skill:
    'addition and subtraction of two-digit numbers: with a one-digit number without (level 1) and with (level 2) a carry or borrow, with a two-digit number (level 3)',
  promptTemplate: `Compute {a}{+|-}{b}.`,
  draft(random) {
    const level = random.int(1, 3);
    const operator = random.pick(['+', '-'] as const);
    // Level 1: a two-digit and a one-digit number, no carry or borrow; level 2: with one; level 3: two
    // two-digit numbers. No item is a bare one-digit fact (those the corpus states as tables).
    let a: number;
    let b: number;
    if (level === 3) {
      a = random.int(10, 99);
      b = random.int(10, 99);
    } else {
      const tens = random.int(2, 9);
      const plain = level === 1;
      let ones: number;
      if (operator === '+') {
        ones = plain ? random.int(0, 8) : random.int(1, 9);
        b = plain ? random.int(1, 9 - ones) : random.int(10 - ones, 9);
      } else {
        ones = plain ? random.int(1, 9) : random.int(0, 8);
        b = plain ? random.int(1, ones) : random.int(ones + 1, 9);
      }
      a = tens * 10 + ones;
    }
    if (operator === '-' && b > a) [a, b] = [b, a];
    const answer = operator === '+' ? a + b : a - b;
    const expression = `${a}${operator}${b}`;
    return {
      key: expression,
      input: { prompt: `Compute ${expression}.`, expression },
      target: String(answer),
      meta: { level },
    };
  },
};

/** AIME analogue: harder multi-step arithmetic with precedence. */
export const nanoMultistep: NanoTask = {
  ...mathTaskFields,
  id: 'nano-multistep',
  mirrors: 'aime24',
  skill: 'two-operation arithmetic with brackets and precedence',
  promptTemplate: `Compute ({a}{+|-}{b})*{c} or {a}*{b}{+|-}{c}.`,
  draft(random) {
    const level = random.int(1, 3);
    const form = random.int(0, 3);
    const small = level === 1;
    let expression: string;
    let answer: number;
    if (form < 2) {
      let a = small ? random.int(1, 5) : random.int(2, level === 2 ? 9 : 19);
      let b = small ? random.int(1, 5) : random.int(2, level === 2 ? 9 : 19);
      const c = small ? random.int(2, 3) : random.int(2, 9);
      if (form === 1 && b > a) [a, b] = [b, a];
      if (form === 1 && a === b) a++;
      expression = form === 0 ? `(${a}+${b})*${c}` : `(${a}-${b})*${c}`;
      answer = form === 0 ? (a + b) * c : (a - b) * c;
    } else {
      const a = small ? random.int(2, 3) : random.int(2, level === 2 ? 5 : 12);
      const b = small ? random.int(2, 5) : random.int(2, 9);
      const c = small ? random.int(1, 5) : random.int(2, level === 2 ? 9 : 30);
      expression = form === 2 ? `${a}*${b}+${c}` : `${a}*${b}-${c}`;
      answer = form === 2 ? a * b + c : a * b - c;
    }
    return {
      key: expression,
      input: { prompt: `Compute ${expression}.`, expression },
      target: String(answer),
      meta: { level },
    };
  },
};

/** AIME25 analogue: one-variable linear equations. */
export const nanoLinear: NanoTask = {
  ...mathTaskFields,
  id: 'nano-linear',
  mirrors: 'aime25',
  skill: 'solving a one-variable linear equation',
  promptTemplate: `Solve for x: {x+b=c | ax=c | ax{+|-}b=c}.`,
  draft(random) {
    const level = random.int(1, 3);
    const a = level === 1 ? 1 : random.int(2, 9);
    const x = level === 3 ? random.int(1, 15) : random.int(1, 9);
    const b = level === 2 ? 0 : random.int(1, level === 1 ? 9 : 30);
    const operator = level === 3 ? random.pick(['+', '-'] as const) : '+';
    const c = operator === '+' ? a * x + b : a * x - b;
    const equation = `${a === 1 ? '' : a}x${b === 0 ? '' : `${operator}${b}`}=${c}`;
    return {
      key: equation,
      input: {
        prompt: `Solve for x: ${equation}.`,
        equation,
        a,
        b: operator === '+' ? b : -b,
        c,
      },
      target: String(x),
      meta: { level },
    };
  },
};

/** OlympiadBench analogue: remainders (modular arithmetic). */
export const nanoRemainder: NanoTask = {
  ...mathTaskFields,
  id: 'nano-remainder',
  mirrors: 'olympiadbench',
  skill: 'division with remainder (dividends up to 29, 99, 499 by level)',
  promptTemplate: `Find the remainder when {n} is divided by {m}.`,
  draft(random) {
    const level = random.int(1, 3);
    const n = level === 1 ? random.int(2, 29) : level === 2 ? random.int(10, 99) : random.int(100, 499);
    const m = level === 1 ? random.int(2, 5) : random.int(2, 9);
    return {
      key: `${n}%${m}`,
      input: { prompt: `Find the remainder when ${n} is divided by ${m}.`, n, m },
      target: String(n % m),
      meta: { level },
    };
  },
};

export const mathTasks: readonly NanoTask[] = [nanoArithmetic, nanoMultistep, nanoLinear, nanoRemainder];
