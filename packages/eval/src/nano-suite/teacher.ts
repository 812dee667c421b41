import { createHash } from 'node:crypto';
import {
  EngineError,
  type EngineInfo,
  type EngineV1,
  type GenerateRequest,
  type GenerateResult,
  type HiddenResult,
  type ScoreResult,
} from '@xfer/core';
import { hashString, mixSeed, Random } from './random.js';

/** How the teacher writes: `think` (long trace in `<think>…</think>`, then the answer) or `no-think`. */
export type TeacherMode = 'think' | 'no-think';

export interface NanoTeacherOptions {
  /**
   * `auto` (default) reads the mode off the rendered prompt the way Qwen3 does: a generation prompt that
   * already holds an empty `<think>\n\n</think>` block means no-think, anything else means think.
   */
  mode?: TeacherMode | 'auto';
  /**
   * Probability that a response carries an arithmetic slip in its last step (so its final answer is wrong
   * and rejection sampling has something to reject). Decided per request from its seed. Default 0.1.
   */
  errorRate?: number;
}

/** A parsed nano math problem. */
export type MathProblem =
  | { kind: 'arithmetic'; a: number; operator: '+' | '-'; b: number }
  | { kind: 'bracket'; a: number; operator: '+' | '-'; b: number; c: number }
  | { kind: 'product'; a: number; b: number; operator: '+' | '-'; c: number }
  | { kind: 'linear'; a: number; b: number; c: number }
  | { kind: 'remainder'; n: number; m: number };

const EMPTY_THINK = '<think>\n\n</think>\n\n';

/** The last user message of a rendered ChatML prompt (the whole prompt when it is not ChatML). */
export function lastUserMessage(prompt: string): string {
  const start = prompt.lastIndexOf('<|im_start|>user\n');
  if (start === -1) return prompt;
  const body = prompt.slice(start + '<|im_start|>user\n'.length);
  const end = body.indexOf('<|im_end|>');
  return end === -1 ? body : body.slice(0, end);
}

/** Recognise a nano-suite math question (any of the four math tasks); null for anything else. */
export function parseMathProblem(text: string): MathProblem | null {
  let match = text.match(/Compute (\d+)([+-])(\d+)\./);
  if (match)
    return { kind: 'arithmetic', a: Number(match[1]), operator: match[2] as '+' | '-', b: Number(match[3]) };
  match = text.match(/Compute \((\d+)([+-])(\d+)\)\*(\d+)\./);
  if (match) {
    return {
      kind: 'bracket',
      a: Number(match[1]),
      operator: match[2] as '+' | '-',
      b: Number(match[3]),
      c: Number(match[4]),
    };
  }
  match = text.match(/Compute (\d+)\*(\d+)([+-])(\d+)\./);
  if (match) {
    return {
      kind: 'product',
      a: Number(match[1]),
      b: Number(match[2]),
      operator: match[3] as '+' | '-',
      c: Number(match[4]),
    };
  }
  match = text.match(/Solve for x: (\d*)x(?:([+-])(\d+))?=(-?\d+)\./);
  if (match) {
    const b = match[3] === undefined ? 0 : Number(match[3]) * (match[2] === '-' ? -1 : 1);
    return { kind: 'linear', a: match[1] === '' ? 1 : Number(match[1]), b, c: Number(match[4]) };
  }
  match = text.match(/Find the remainder when (\d+) is divided by (\d+)\./);
  if (match) return { kind: 'remainder', n: Number(match[1]), m: Number(match[2]) };
  return null;
}

/** The exact answer of a problem. */
export function solveMathProblem(problem: MathProblem): number {
  switch (problem.kind) {
    case 'arithmetic':
      return problem.operator === '+' ? problem.a + problem.b : problem.a - problem.b;
    case 'bracket':
      return (problem.operator === '+' ? problem.a + problem.b : problem.a - problem.b) * problem.c;
    case 'product':
      return problem.operator === '+' ? problem.a * problem.b + problem.c : problem.a * problem.b - problem.c;
    case 'linear':
      return (problem.c - problem.b) / problem.a;
    case 'remainder':
      return problem.n % problem.m;
  }
}

/**
 * The same column arithmetic on one line, one digit sum per place (ones first), e.g. `7+8=15, 4+3+1=8` for
 * 47+38 or `12-7=5, 5-1-1=3` for 52-17: the no-think teacher's short worked answer.
 */
export function compactColumn(a: number, operator: '+' | '-', b: number): string {
  if (operator === '-' && b > a) return `${a}-${b}=-(${b}-${a}), ${compactColumn(b, '-', a)}`;
  const top = String(a).split('').reverse().map(Number);
  const bottom = String(b).split('').reverse().map(Number);
  const parts: string[] = [];
  let carry = 0;
  for (let place = 0; place < Math.max(top.length, bottom.length); place++) {
    const x = top[place] ?? 0;
    const y = bottom[place] ?? 0;
    if (operator === '+') {
      const sum = x + y + carry;
      parts.push(`${x}+${y}${carry > 0 ? '+1' : ''}=${sum}`);
      carry = sum >= 10 ? 1 : 0;
    } else {
      const value = x - carry;
      const shown = `${x}${carry > 0 ? '-1' : ''}`;
      if (value < y) {
        parts.push(`1${shown}-${y}=${value + 10 - y}`);
        carry = 1;
      } else {
        parts.push(`${shown}-${y}=${value - y}`);
        carry = 0;
      }
    }
  }
  return parts.join(', ');
}

/**
 * Whether `a op b` is one of the one-digit table facts the corpus states (`arithmeticFacts`): a sum of two
 * digits, or a difference of a digit (or a teen) and a digit that is a digit.
 */
function isTableFact(a: number, operator: '+' | '-', b: number): boolean {
  if (operator === '+') return a <= 9 && b <= 9;
  return b <= 9 && a - b >= 0 && a - b <= 9 && (a <= 9 || (a <= 18 && a - 10 < b));
}

/**
 * `a op b` worked out: a table fact when it is one (`8+7=15`, `14-8=6`), else restated and done by column,
 * ones first, then the result (`72+4: 2+4=6, 7+0=7, so 72+4=76`). A negative difference is the reverse one,
 * negated. Every step is a one-digit fact next to the digits it reads, the way a small model can follow it.
 */
export function additionWork(a: number, operator: '+' | '-', b: number): string {
  const expression = `${a}${operator}${b}`;
  const result = operator === '+' ? a + b : a - b;
  if (operator === '-' && b > a)
    return `${expression}=-(${b}-${a}), ${additionWork(b, '-', a)}, so ${expression}=${result}`;
  if (isTableFact(a, operator, b)) return `${expression}=${result}`;
  return `${expression}: ${compactColumn(a, operator, b)}, so ${expression}=${result}`;
}

/** A worked solution: its steps on one line (ending in the result) and the result stated alone. */
export interface MathWork {
  /** Restates the problem, then every step, then `so <result>` (`(4+8)*2: 4+8=12, 12*2=24, so (4+8)*2=24.`). */
  work: string;
  /** The result in one line, as a base answers (`(4+8)*2=24.`). */
  result: string;
}

/**
 * The teacher's worked solution of a problem, whose final result is `answer` (the truth, or the truth with a
 * slip). Each step is a fact from the corpus's tables (`arithmeticFacts`) or column arithmetic restated next
 * to its digits (`additionWork`).
 */
export function mathWork(problem: MathProblem, answer: number = solveMathProblem(problem)): MathWork {
  const finish = (head: string, steps: string[], result: string): MathWork => ({
    work: `${head}: ${[...steps, `so ${result}`].join(', ')}.`,
    result: `${result}.`,
  });
  switch (problem.kind) {
    case 'arithmetic': {
      const expression = `${problem.a}${problem.operator}${problem.b}`;
      const step = isTableFact(problem.a, problem.operator, problem.b)
        ? `${expression}=${solveMathProblem(problem)}`
        : compactColumn(problem.a, problem.operator, problem.b);
      return finish(expression, [step], `${expression}=${answer}`);
    }
    case 'bracket': {
      const expression = `(${problem.a}${problem.operator}${problem.b})*${problem.c}`;
      const inner = problem.operator === '+' ? problem.a + problem.b : problem.a - problem.b;
      return finish(
        expression,
        [additionWork(problem.a, problem.operator, problem.b), `${inner}*${problem.c}=${inner * problem.c}`],
        `${expression}=${answer}`,
      );
    }
    case 'product': {
      const expression = `${problem.a}*${problem.b}${problem.operator}${problem.c}`;
      const product = problem.a * problem.b;
      return finish(
        expression,
        [`${problem.a}*${problem.b}=${product}`, additionWork(product, problem.operator, problem.c)],
        `${expression}=${answer}`,
      );
    }
    case 'linear': {
      const ax = problem.a === 1 ? 'x' : `${problem.a}x`;
      const shift = problem.b;
      const equation = `${ax}${shift === 0 ? '' : shift > 0 ? `+${shift}` : `${shift}`}=${problem.c}`;
      const moved = problem.c - shift;
      const steps: string[] = [];
      if (shift !== 0) {
        const [left, operator, right] =
          shift > 0
            ? [problem.c, '-' as const, shift]
            : problem.c >= 0
              ? [problem.c, '+' as const, -shift]
              : [-shift, '-' as const, -problem.c];
        steps.push(
          `${ax}=${problem.c}${shift > 0 ? '-' : '+'}${Math.abs(shift)}`,
          additionWork(left, operator, right),
        );
      }
      if (problem.a !== 1) steps.push(`x=${moved}/${problem.a}=${moved / problem.a}`);
      return finish(equation, steps, `x=${answer}`);
    }
    case 'remainder': {
      const quotient = Math.floor(problem.n / problem.m);
      const multiple = problem.m * quotient;
      return finish(
        `${problem.n}/${problem.m}`,
        [`${quotient}*${problem.m}=${multiple}`, additionWork(problem.n, '-', multiple)],
        `${problem.n}=${problem.m}*${quotient}+${answer}`,
      );
    }
  }
}

interface Phrasing {
  open: string;
  close: string;
}

const PHRASINGS: readonly Phrasing[] = [
  { open: 'Let me work it out.', close: 'So the answer is' },
  { open: 'I will go step by step.', close: 'Therefore the answer is' },
  { open: 'Let me think carefully.', close: 'So the final answer is' },
];

/**
 * Write the teacher's response for a problem. `slip` shifts the final result (a deliberate error).
 * no-think: the worked solution on one line, then the boxed answer. think: inside `<think>…</think>`, an
 * opening line and the same worked solution, then the result alone and the boxed answer.
 */
export function writeSolution(
  problem: MathProblem,
  mode: TeacherMode,
  phrasing: Phrasing,
  slip: number,
): string {
  const answer = solveMathProblem(problem) + slip;
  const { work, result } = mathWork(problem, answer);
  const boxed = `${phrasing.close} \\boxed{${answer}}.`;
  if (mode === 'no-think') return `${work} ${boxed}`;
  return `<think>\n${phrasing.open}\n${work}\n</think>\n\n${result} ${boxed}`;
}

/** The nano-suite question a problem was parsed from (`Compute 72+4.`). */
export function questionOf(problem: MathProblem): string {
  switch (problem.kind) {
    case 'arithmetic':
      return `Compute ${problem.a}${problem.operator}${problem.b}.`;
    case 'bracket':
      return `Compute (${problem.a}${problem.operator}${problem.b})*${problem.c}.`;
    case 'product':
      return `Compute ${problem.a}*${problem.b}${problem.operator}${problem.c}.`;
    case 'linear': {
      const ax = problem.a === 1 ? 'x' : `${problem.a}x`;
      const shift = problem.b === 0 ? '' : problem.b > 0 ? `+${problem.b}` : `${problem.b}`;
      return `Solve for x: ${ax}${shift}=${problem.c}.`;
    }
    case 'remainder':
      return `Find the remainder when ${problem.n} is divided by ${problem.m}.`;
  }
}

/**
 * A worked example as plain pretraining text: the question, then the no-think teacher's worked solution on
 * the next line (`Compute 72+4.\n72+4: 2+4=6, 7+0=7, so 72+4=76.`), the way the thinking teacher lays it out.
 */
export function workedExample(problem: MathProblem): string {
  return `${questionOf(problem)}\n${mathWork(problem).work}`;
}

/** Token count as engine-nano's byte tokenizer counts it (UTF-8 bytes; chat special tokens count 1). */
export function countNanoTokens(text: string): number {
  const specials = /<\|im_start\|>|<\|im_end\|>|<\|endoftext\|>|<think>|<\/think>/g;
  let count = 0;
  let last = 0;
  for (const match of text.matchAll(specials)) {
    count += Buffer.byteLength(text.slice(last, match.index)) + 1;
    last = match.index! + match[0].length;
  }
  return count + Buffer.byteLength(text.slice(last));
}

function truncateToTokens(text: string, maxTokens: number): string {
  if (countNanoTokens(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (countNanoTokens(text.slice(0, middle)) <= maxTokens) low = middle;
    else high = middle - 1;
  }
  return text.slice(0, low);
}

/**
 * The nano-suite's SFT teacher, mirroring the paper's Qwen3-32B: a programmatic solver behind `EngineV1`
 * (`engineId: 'teacher'`). Its `generate` parses the nano math question in the prompt and writes a
 * step-by-step solution in a style unlike the base's: a long trace in `<think>…</think>` then the answer
 * (think), or a short worked answer (no-think). With temperature > 0 the phrasing varies; a seeded fraction
 * of responses (`errorRate`) slips in the last step so rejection sampling rejects something. Deterministic
 * per (prompt, seed). Prompts it cannot parse finish with `finishReason: 'error'` and empty text.
 */
export class NanoTeacherEngine implements EngineV1 {
  readonly specificationVersion = 'v1' as const;
  readonly engineId = 'teacher';
  private readonly mode: TeacherMode | 'auto';
  private readonly errorRate: number;

  constructor(options: NanoTeacherOptions = {}) {
    this.mode = options.mode ?? 'auto';
    this.errorRate = options.errorRate ?? 0.1;
    if (!(this.errorRate >= 0 && this.errorRate <= 1)) {
      throw new EngineError({
        engine: 'teacher',
        code: 'ENGINE_UNSUPPORTED',
        message: `errorRate must be in [0, 1], got ${this.errorRate}`,
      });
    }
  }

  async info(): Promise<EngineInfo> {
    const identity = `nano-teacher/v1/${this.mode}/${this.errorRate}`;
    return {
      engine: 'teacher',
      model: `nano-teacher-${this.mode}`,
      modelHash: createHash('sha256').update(identity).digest('hex'),
      tokenizerHash: createHash('sha256').update('nano-byte-tokenizer').digest('hex'),
      capabilities: ['generate'],
    };
  }

  /** The response to one request (synchronous; `generate` streams these). */
  respond(request: GenerateRequest): GenerateResult {
    const started = Date.now();
    const problem = parseMathProblem(lastUserMessage(request.prompt));
    const promptTokens = countNanoTokens(request.prompt);
    if (!problem) {
      return {
        id: request.id,
        text: '',
        finishReason: 'error',
        promptTokens,
        completionTokens: 0,
        latencyMs: Date.now() - started,
      };
    }
    const mode: TeacherMode =
      this.mode === 'auto' ? (request.prompt.endsWith(EMPTY_THINK) ? 'no-think' : 'think') : this.mode;
    const random = new Random(mixSeed(request.sampling.seed, `${hashString(request.prompt)}`));
    const phrasing = request.sampling.temperature > 0 ? random.pick(PHRASINGS) : PHRASINGS[0]!;
    const slip = random.chance(this.errorRate) ? random.pick([-10, -2, -1, 1, 2, 10]) : 0;
    let text = writeSolution(problem, mode, phrasing, slip);
    let finishReason: GenerateResult['finishReason'] = 'stop';
    for (const stop of request.sampling.stop) {
      const at = text.indexOf(stop);
      if (at !== -1) text = text.slice(0, at);
    }
    const truncated = truncateToTokens(text, request.sampling.maxTokens);
    if (truncated.length < text.length) finishReason = 'length';
    return {
      id: request.id,
      text: truncated,
      finishReason,
      promptTokens,
      completionTokens: countNanoTokens(truncated),
      latencyMs: Date.now() - started,
    };
  }

  async *generate(requests: readonly GenerateRequest[]): AsyncIterable<GenerateResult> {
    for (const request of requests) yield this.respond(request);
  }

  async score(): Promise<ScoreResult[]> {
    throw new EngineError({
      engine: 'teacher',
      code: 'ENGINE_UNSUPPORTED',
      message: 'the nano teacher only generates',
    });
  }

  async hidden(): Promise<HiddenResult> {
    throw new EngineError({
      engine: 'teacher',
      code: 'ENGINE_UNSUPPORTED',
      message: 'the nano teacher has no hidden states',
    });
  }

  async close(): Promise<void> {}
}
