/**
 * A symbolic-numeric equivalence grader for math answers, independent of the Hendrycks string normaliser:
 * both answers are parsed from LaTeX into expression trees and compared by value — exactly for constants,
 * and at several seeded random points when they contain variables (a Schwartz–Zippel style identity test).
 * Tuples and intervals compare element-wise in order (brackets must agree), bare comma lists as multisets,
 * `x = 3` compares its right-hand side. Anything that does not parse falls back to a normalised string
 * comparison, and the verdict says which method decided.
 */
import { stripString } from './hendrycks.js';

type Evaluate = (variables: ReadonlyMap<string, number>) => number;

interface Parsed {
  evaluate: Evaluate;
  variables: Set<string>;
}

class ParseFailed extends Error {}

const functions: Record<string, (value: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  cot: (value) => 1 / Math.tan(value),
  sec: (value) => 1 / Math.cos(value),
  csc: (value) => 1 / Math.sin(value),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  log: Math.log10,
  exp: Math.exp,
};

const greek = new Set([
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'varepsilon',
  'zeta',
  'eta',
  'theta',
  'vartheta',
  'iota',
  'kappa',
  'lambda',
  'mu',
  'nu',
  'xi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'varphi',
  'chi',
  'psi',
  'omega',
  'Gamma',
  'Delta',
  'Theta',
  'Lambda',
  'Xi',
  'Sigma',
  'Phi',
  'Psi',
  'Omega',
]);

type Token =
  | { type: 'number'; value: number }
  | { type: 'name'; value: string }
  | { type: 'command'; value: string }
  | { type: 'symbol'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const character = text[position]!;
    if (/\s/.test(character)) {
      position++;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)/.exec(text.slice(position));
    if (number) {
      tokens.push({ type: 'number', value: Number(number[0]) });
      position += number[0].length;
      continue;
    }
    if (character === '\\') {
      const command = /^\\([a-zA-Z]+)/.exec(text.slice(position));
      if (!command) throw new ParseFailed(`stray backslash at ${position}`);
      tokens.push({ type: 'command', value: command[1]! });
      position += command[0].length;
      continue;
    }
    if (/[a-zA-Z]/.test(character)) {
      tokens.push({ type: 'name', value: character });
      position++;
      continue;
    }
    if ('+-*/^()[]{}!|_'.includes(character)) {
      tokens.push({ type: 'symbol', value: character });
      position++;
      continue;
    }
    throw new ParseFailed(`unexpected '${character}'`);
  }
  return tokens;
}

class Parser {
  private position = 0;
  readonly variables = new Set<string>();
  constructor(private readonly tokens: Token[]) {}

  parse(): Evaluate {
    const expression = this.expression();
    if (this.position < this.tokens.length) throw new ParseFailed('trailing input');
    return expression;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private isSymbol(value: string): boolean {
    const token = this.peek();
    return token?.type === 'symbol' && token.value === value;
  }

  private expect(value: string): void {
    if (!this.isSymbol(value)) throw new ParseFailed(`expected '${value}'`);
    this.position++;
  }

  private expression(): Evaluate {
    let left = this.term();
    for (;;) {
      if (this.isSymbol('+')) {
        this.position++;
        const right = this.term();
        const previous = left;
        left = (variables) => previous(variables) + right(variables);
      } else if (this.isSymbol('-')) {
        this.position++;
        const right = this.term();
        const previous = left;
        left = (variables) => previous(variables) - right(variables);
      } else return left;
    }
  }

  private startsOperand(): boolean {
    const token = this.peek();
    if (token === undefined) return false;
    if (token.type === 'number' || token.type === 'name') return true;
    if (token.type === 'command')
      return token.value !== 'cdot' && token.value !== 'times' && token.value !== 'div';
    return token.value === '(' || token.value === '{' || token.value === '[';
  }

  private term(): Evaluate {
    let left = this.mixedNumber() ?? this.unary();
    for (;;) {
      const token = this.peek();
      const multiply =
        (token?.type === 'symbol' && token.value === '*') ||
        (token?.type === 'command' && (token.value === 'cdot' || token.value === 'times'));
      const divide =
        (token?.type === 'symbol' && token.value === '/') ||
        (token?.type === 'command' && token.value === 'div');
      if (multiply || divide) {
        this.position++;
        const right = this.unary();
        const previous = left;
        left = divide
          ? (variables) => previous(variables) / right(variables)
          : (variables) => previous(variables) * right(variables);
      } else if (this.startsOperand()) {
        // a digit after a finished operand (`\frac{1}{2}1`, `\pi1`) is not a product in LaTeX
        if (this.peek()?.type === 'number') throw new ParseFailed('number after an operand');
        const right = this.power();
        const previous = left;
        left = (variables) => previous(variables) * right(variables);
      } else return left;
    }
  }

  /** A mixed number `137 \frac{1}{2}` (an integer directly followed by a numeric fraction) is a sum. */
  private mixedNumber(): Evaluate | undefined {
    const whole = this.tokens[this.position];
    const next = this.tokens[this.position + 1];
    const open = this.tokens[this.position + 2];
    if (
      whole?.type !== 'number' ||
      !Number.isInteger(whole.value) ||
      next?.type !== 'command' ||
      next.value !== 'frac'
    )
      return undefined;
    if (open?.type === 'symbol' && open.value === '{' && this.tokens[this.position + 3]?.type !== 'number')
      return undefined;
    this.position++;
    const fraction = this.power();
    const value = whole.value;
    return (variables) => value + fraction(variables);
  }

  private unary(): Evaluate {
    if (this.isSymbol('-')) {
      this.position++;
      const operand = this.unary();
      return (variables) => -operand(variables);
    }
    if (this.isSymbol('+')) {
      this.position++;
      return this.unary();
    }
    return this.power();
  }

  private power(): Evaluate {
    const base = this.postfix();
    if (!this.isSymbol('^')) return base;
    this.position++;
    const exponent = this.isSymbol('{') ? this.group() : this.isSymbol('-') ? this.unary() : this.postfix();
    return (variables) => base(variables) ** exponent(variables);
  }

  private postfix(): Evaluate {
    let operand = this.primary();
    while (this.isSymbol('!')) {
      this.position++;
      const inner = operand;
      operand = (variables) => factorial(inner(variables));
    }
    return operand;
  }

  private group(): Evaluate {
    this.expect('{');
    const inner = this.expression();
    this.expect('}');
    return inner;
  }

  /** A `{...}` group, or a single token as in `\frac12`, `\sqrt2`. */
  private argument(): Evaluate {
    if (this.isSymbol('{')) return this.group();
    const token = this.peek();
    if (token?.type === 'number') {
      // \frac12: a single digit each
      const digits = String(token.value);
      if (/^\d+$/.test(digits) && digits.length > 1) {
        this.tokens.splice(
          this.position,
          1,
          { type: 'number', value: Number(digits[0]) },
          { type: 'number', value: Number(digits.slice(1)) },
        );
      }
    }
    return this.primary();
  }

  private subscriptName(): string {
    if (!this.isSymbol('_')) return '';
    this.position++;
    if (this.isSymbol('{')) {
      const start = this.position;
      let depth = 0;
      do {
        const token = this.tokens[this.position];
        if (token === undefined) throw new ParseFailed('unclosed subscript');
        if (token.type === 'symbol' && token.value === '{') depth++;
        if (token.type === 'symbol' && token.value === '}') depth--;
        this.position++;
      } while (depth > 0);
      return `_${JSON.stringify(this.tokens.slice(start, this.position))}`;
    }
    const token = this.tokens[this.position++];
    if (token === undefined) throw new ParseFailed('empty subscript');
    return `_${token.value}`;
  }

  private primary(): Evaluate {
    const token = this.tokens[this.position++];
    if (token === undefined) throw new ParseFailed('unexpected end');
    if (token.type === 'number') {
      const value = token.value;
      return () => value;
    }
    if (token.type === 'name') {
      if (token.value === 'e' && !this.isSymbol('_')) return () => Math.E;
      const name = token.value + this.subscriptName();
      this.variables.add(name);
      return (variables) => variables.get(name) ?? Number.NaN;
    }
    if (token.type === 'symbol') {
      if (token.value === '(' || token.value === '[') {
        const inner = this.expression();
        this.expect(token.value === '(' ? ')' : ']');
        return inner;
      }
      if (token.value === '{') {
        const inner = this.expression();
        this.expect('}');
        return inner;
      }
      if (token.value === '|') {
        const inner = this.expression();
        this.expect('|');
        return (variables) => Math.abs(inner(variables));
      }
      throw new ParseFailed(`unexpected '${token.value}'`);
    }
    const command = token.value;
    if (command === 'frac' || command === 'binom') {
      const top = this.argument();
      const bottom = this.argument();
      return command === 'frac'
        ? (variables) => top(variables) / bottom(variables)
        : (variables) => binomial(top(variables), bottom(variables));
    }
    if (command === 'sqrt') {
      let index: Evaluate = () => 2;
      if (this.isSymbol('[')) {
        this.position++;
        index = this.expression();
        this.expect(']');
      }
      const radicand = this.argument();
      return (variables) => {
        const value = radicand(variables);
        const root = index(variables);
        return value < 0 && root % 2 === 1 ? -((-value) ** (1 / root)) : value ** (1 / root);
      };
    }
    if (command === 'pi') return () => Math.PI;
    if (command === 'infty') return () => Number.POSITIVE_INFINITY;
    if (greek.has(command)) {
      const name = `\\${command}${this.subscriptName()}`;
      this.variables.add(name);
      return (variables) => variables.get(name) ?? Number.NaN;
    }
    const apply = functions[command];
    if (apply !== undefined) {
      let base: Evaluate | undefined;
      if (command === 'log' && this.isSymbol('_')) {
        this.position++;
        base = this.argument();
      }
      let exponent: Evaluate | undefined;
      if (this.isSymbol('^')) {
        this.position++;
        exponent = this.isSymbol('{') ? this.group() : this.primary();
      }
      const operand = this.power();
      return (variables) => {
        const raw =
          base === undefined
            ? apply(operand(variables))
            : Math.log(operand(variables)) / Math.log(base(variables));
        return exponent === undefined ? raw : raw ** exponent(variables);
      };
    }
    throw new ParseFailed(`unsupported command \\${command}`);
  }
}

function factorial(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 170) return Number.NaN;
  let result = 1;
  for (let factor = 2; factor <= value; factor++) result *= factor;
  return result;
}

function binomial(n: number, k: number): number {
  return factorial(n) / (factorial(k) * factorial(n - k));
}

/** Remove presentation-only LaTeX: `$`, spacing, `\left`/`\right`, degrees, percent, units in `\text{}`. */
export function cleanLatex(input: string): string {
  let text = input.trim();
  text = text.replace(/^\$+|\$+$/g, '').replace(/\\\$/g, '');
  text = text.replace(/\\(left|right|displaystyle|bigl|bigr|Bigl|Bigr|big|Big)\b/g, '');
  text = text.replace(/\\[!,;:]|\\quad|\\qquad|~/g, ' ');
  text = text.replace(/\\[dt]frac/g, '\\frac');
  text = text.replace(/\^\{?\\circ\}?|°/g, '');
  text = text.replace(/\\%|%/g, '');
  text = text.replace(/\{,\}/g, '');
  // a set literal \{a, b\} is an unordered list; other escaped braces group like parentheses
  const set = /^\\\{(.*)\\\}$/s.exec(text.trim());
  if (set) text = set[1]!;
  text = text.replace(/\\\{/g, '(').replace(/\\\}/g, ')');
  text = text.replace(/\\(?:mathrm|mathbf|textbf|mbox|operatorname)\{([^{}]*)\}/g, '\\text{$1}');
  text = text.trim().replace(/\.$/, '');
  return text.trim();
}

/** Split on commas at bracket depth 0. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let position = 0; position < text.length; position++) {
    const character = text[position]!;
    if ('([{'.includes(character)) depth++;
    else if (')]}'.includes(character)) depth--;
    else if (character === separator && depth === 0) {
      parts.push(text.slice(start, position));
      start = position + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

function enclosing(text: string): { open: string; close: string; inner: string } | undefined {
  const open = text[0];
  const close = text.at(-1);
  if (!open || !close || !'([{'.includes(open) || !')]}'.includes(close)) return undefined;
  // the first bracket must close at the very end
  let depth = 0;
  for (let position = 0; position < text.length; position++) {
    if ('([{'.includes(text[position]!)) depth++;
    else if (')]}'.includes(text[position]!)) depth--;
    if (depth === 0 && position < text.length - 1) return undefined;
  }
  return { open, close, inner: text.slice(1, -1) };
}

function parseExpression(text: string): Parsed {
  const withoutUnits = text.replace(/\\text\{[^{}]*\}/g, ' ').trim();
  if (withoutUnits === '') throw new ParseFailed('no expression');
  const numberWithThousands = /^\d{1,3}(,\d{3})+(\.\d+)?$/;
  const source = numberWithThousands.test(withoutUnits) ? withoutUnits.replaceAll(',', '') : withoutUnits;
  const parser = new Parser(tokenize(source));
  const evaluate = parser.parse();
  return { evaluate, variables: parser.variables };
}

/** Deterministic points: a small LCG seeded by the trial index, values in [0.6, 2.6). */
function samplePoint(names: readonly string[], trial: number): Map<string, number> {
  let state = (trial + 1) * 2654435761;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return new Map(names.map((name) => [name, 0.6 + 2 * next()]));
}

function closeEnough(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

function expressionsEqual(left: Parsed, right: Parsed): boolean {
  const names = [...new Set([...left.variables, ...right.variables])].sort();
  const trials = names.length === 0 ? 1 : 6;
  let compared = 0;
  for (let trial = 0; trial < trials; trial++) {
    const point = samplePoint(names, trial);
    const a = left.evaluate(point);
    const b = right.evaluate(point);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!closeEnough(a, b)) return false;
    compared++;
  }
  return compared > 0;
}

function normalisedString(text: string): string {
  let value = text.replace(/\\text\{([^{}]*)\}/g, '$1');
  try {
    value = stripString(value);
  } catch {
    // keep the raw text
  }
  return value.replace(/\s+/g, '').toLowerCase();
}

export type SymbolicMethod = 'numeric' | 'string' | 'structure';

export interface SymbolicComparison {
  equal: boolean;
  method: SymbolicMethod;
}

function compareAtoms(gold: string, predicted: string): SymbolicComparison {
  if (normalisedString(gold) === normalisedString(predicted)) return { equal: true, method: 'string' };
  try {
    return { equal: expressionsEqual(parseExpression(gold), parseExpression(predicted)), method: 'numeric' };
  } catch {
    return { equal: false, method: 'string' };
  }
}

function dropLeftHandSide(text: string): string {
  const sides = splitTopLevel(text, '=');
  if (sides.length === 2 && /^\\?[a-zA-Z]+(_\{?\w+\}?)?$/.test(sides[0]!)) return sides[1]!;
  return text;
}

/** Compare a predicted answer with the gold answer by value. */
export function compareSymbolic(goldInput: string, predictedInput: string): SymbolicComparison {
  const gold = dropLeftHandSide(cleanLatex(goldInput));
  const predicted = dropLeftHandSide(cleanLatex(predictedInput));
  if (predicted === '') return { equal: false, method: 'string' };
  const goldBrackets = enclosing(gold);
  const predictedBrackets = enclosing(predicted);
  const goldParts = splitTopLevel(goldBrackets?.inner ?? gold, ',');
  const predictedParts = splitTopLevel(predictedBrackets?.inner ?? predicted, ',');
  const isList = goldParts.length > 1 || predictedParts.length > 1;
  if (!isList) return compareAtoms(gold, predicted);
  if (goldParts.length !== predictedParts.length) {
    // "1,000" style numbers are atoms, not lists
    const atoms = compareAtoms(gold, predicted);
    return atoms.equal ? atoms : { equal: false, method: 'structure' };
  }
  const ordered = goldBrackets !== undefined || predictedBrackets !== undefined;
  if (ordered) {
    if (goldBrackets?.open !== predictedBrackets?.open || goldBrackets?.close !== predictedBrackets?.close) {
      return { equal: false, method: 'structure' };
    }
    const equal = goldParts.every((part, index) => compareAtoms(part, predictedParts[index]!).equal);
    return { equal, method: 'structure' };
  }
  const remaining = [...predictedParts];
  for (const part of goldParts) {
    const match = remaining.findIndex((candidate) => compareAtoms(part, candidate).equal);
    if (match < 0) return { equal: false, method: 'structure' };
    remaining.splice(match, 1);
  }
  return { equal: true, method: 'structure' };
}
