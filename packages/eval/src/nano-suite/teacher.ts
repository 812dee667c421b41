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

/** Column addition or subtraction of non-negative integers, one line per digit (ones first). */
function columnSteps(a: number, operator: '+' | '-', b: number): string[] {
  if (operator === '-' && b > a) return [`${a}-${b} is minus ${b}-${a}.`, ...columnSteps(b, '-', a)];
  const top = String(a).split('').reverse().map(Number);
  const bottom = String(b).split('').reverse().map(Number);
  const names = ['Ones', 'Tens', 'Hundreds', 'Thousands'];
  const lines: string[] = [];
  let carry = 0;
  for (let place = 0; place < Math.max(top.length, bottom.length); place++) {
    const x = top[place] ?? 0;
    const y = bottom[place] ?? 0;
    const name = names[place] ?? `Place ${place + 1}`;
    if (operator === '+') {
      const sum = x + y + carry;
      const shown = carry > 0 ? `${x}+${y}+${carry}` : `${x}+${y}`;
      lines.push(
        sum >= 10 ? `${name}: ${shown}=${sum}, write ${sum % 10} carry 1.` : `${name}: ${shown}=${sum}.`,
      );
      carry = sum >= 10 ? 1 : 0;
    } else {
      let value = x - carry;
      const shown = carry > 0 ? `${x}-${carry}-${y}` : `${x}-${y}`;
      if (value < y) {
        lines.push(`${name}: ${shown} needs a borrow, ${value + 10}-${y}=${value + 10 - y}.`);
        carry = 1;
      } else {
        value -= y;
        lines.push(`${name}: ${shown}=${value}.`);
        carry = 0;
      }
    }
  }
  if (operator === '+' && carry > 0) lines.push(`${names[top.length] ?? 'Next place'}: carry 1.`);
  return lines;
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

/** Multiplication of a number by a one-digit factor, split into tens and ones. */
function productSteps(a: number, c: number): string[] {
  if (a < 10 || c >= 10) return [`${a}*${c}=${a * c}.`];
  const tens = Math.floor(a / 10) * 10;
  const ones = a % 10;
  return [`${a}*${c}: ${tens}*${c}=${tens * c}, ${ones}*${c}=${ones * c}, ${tens * c}+${ones * c}=${a * c}.`];
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

/** Write the teacher's response for a problem. `slip` shifts the final result (a deliberate error). */
export function writeSolution(
  problem: MathProblem,
  mode: TeacherMode,
  phrasing: Phrasing,
  slip: number,
): string {
  const truth = solveMathProblem(problem);
  const answer = truth + slip;
  const steps: string[] = [];
  let summary: string;
  switch (problem.kind) {
    case 'arithmetic': {
      const expression = `${problem.a}${problem.operator}${problem.b}`;
      steps.push(`We need ${expression}.`, ...columnSteps(problem.a, problem.operator, problem.b));
      steps.push(`So ${expression}=${answer}.`);
      summary =
        problem.a < 10 && problem.b < 10
          ? `${expression}=${answer}.`
          : `${compactColumn(problem.a, problem.operator, problem.b)}, so ${expression}=${answer}.`;
      break;
    }
    case 'bracket': {
      const inner = problem.operator === '+' ? problem.a + problem.b : problem.a - problem.b;
      steps.push(`First the brackets: ${problem.a}${problem.operator}${problem.b}=${inner}.`);
      steps.push(`Then ${inner}*${problem.c}.`, ...productSteps(inner, problem.c));
      steps.push(`So (${problem.a}${problem.operator}${problem.b})*${problem.c}=${answer}.`);
      summary = `${problem.a}${problem.operator}${problem.b}=${inner} and ${inner}*${problem.c}=${answer}.`;
      break;
    }
    case 'product': {
      const product = problem.a * problem.b;
      steps.push(`First the product: ${problem.a}*${problem.b}=${product}.`);
      steps.push(
        `Then ${product}${problem.operator}${problem.c}.`,
        ...columnSteps(product, problem.operator, problem.c),
      );
      steps.push(`So ${problem.a}*${problem.b}${problem.operator}${problem.c}=${answer}.`);
      summary = `${problem.a}*${problem.b}=${product} and ${product}${problem.operator}${problem.c}=${answer}.`;
      break;
    }
    case 'linear': {
      const shift = problem.b;
      const moved = problem.c - shift;
      const sign = shift === 0 ? '' : shift > 0 ? `+${shift}` : `${shift}`;
      const ax = problem.a === 1 ? 'x' : `${problem.a}x`;
      steps.push(`The equation is ${ax}${sign}=${problem.c}.`);
      if (shift > 0) steps.push(`Subtract ${shift} from both sides: ${ax}=${moved}.`);
      if (shift < 0) steps.push(`Add ${-shift} to both sides: ${ax}=${moved}.`);
      if (problem.a !== 1)
        steps.push(`Divide by ${problem.a}: ${moved}/${problem.a}=${answer}, so x=${answer}.`);
      steps.push(
        `Check: ${problem.a === 1 ? '' : `${problem.a}*`}${answer}${sign}=${problem.a * answer + shift}.`,
      );
      summary = shift === 0 || problem.a === 1 ? `x=${answer}.` : `${ax}=${moved}, so x=${answer}.`;
      break;
    }
    case 'remainder': {
      const quotient = Math.floor(problem.n / problem.m);
      steps.push(`Divide ${problem.n} by ${problem.m}.`);
      steps.push(
        `${problem.m}*${quotient}=${problem.m * quotient} and ${problem.m}*${quotient + 1}=${problem.m * (quotient + 1)} is too big.`,
      );
      steps.push(`${problem.n}-${problem.m * quotient}=${answer}.`);
      summary = `${problem.n}=${problem.m}*${quotient}+${answer}.`;
      break;
    }
  }
  const boxed = `${phrasing.close} \\boxed{${answer}}.`;
  if (mode === 'no-think') return `${summary} ${boxed}`;
  return `<think>\n${phrasing.open}\n${steps.join('\n')}\n</think>\n\n${summary} ${boxed}`;
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
