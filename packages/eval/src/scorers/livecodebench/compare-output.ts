/**
 * stdout comparison of LiveCodeBench's `testing_util.grade_stdio`: both texts `.strip()`ped and split on `\n`,
 * each line `.strip()`ped; the line counts must agree; a line matches when it is identical or when both lines
 * split on whitespace into the same list of `decimal.Decimal` values (so `1.0` equals `1` and `0.50` equals
 * `0.5`, with no tolerance: `0.333` is not `0.3333`).
 */
export interface OutputComparison {
  equal: boolean;
  /** Why not, in the reference's words. */
  reason?: string;
}

type DecimalValue =
  | { kind: 'finite'; negative: boolean; digits: string; exponent: number }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan' };

const FINITE =
  /^([+-]?)(?:(\d(?:_?\d)*)(?:\.((?:\d(?:_?\d)*)?))?|\.(\d(?:_?\d)*))(?:[eE]([+-]?\d(?:_?\d)*))?$/;

/** Python's `Decimal(text)` for the forms it accepts, normalised for equality; `undefined` when it would raise. */
export function parseDecimal(text: string): DecimalValue | undefined {
  const special = text.toLowerCase().replace(/^[+-]/, '');
  if (special === 'inf' || special === 'infinity')
    return { kind: 'infinity', negative: text.startsWith('-') };
  if (special === 'nan' || special === 'snan') return { kind: 'nan' };
  const match = FINITE.exec(text);
  if (!match) return undefined;
  const integerPart = (match[2] ?? '').replaceAll('_', '');
  const fractionPart = (match[3] ?? match[4] ?? '').replaceAll('_', '');
  const exponentText = (match[5] ?? '0').replaceAll('_', '');
  let digits = `${integerPart}${fractionPart}`.replace(/^0+/, '');
  let exponent = Number.parseInt(exponentText, 10) - fractionPart.length;
  if (digits === '') return { kind: 'finite', negative: false, digits: '0', exponent: 0 };
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { kind: 'finite', negative: match[1] === '-', digits, exponent };
}

function decimalsEqual(left: DecimalValue, right: DecimalValue): boolean {
  if (left.kind === 'nan' || right.kind === 'nan') return false;
  if (left.kind === 'infinity' || right.kind === 'infinity') {
    return left.kind === right.kind && left.negative === right.negative;
  }
  return left.negative === right.negative && left.digits === right.digits && left.exponent === right.exponent;
}

function decimalLine(line: string): DecimalValue[] | undefined {
  const values: DecimalValue[] = [];
  for (const element of line.split(/\s+/u).filter(Boolean)) {
    const value = parseDecimal(element);
    if (!value) return undefined;
    values.push(value);
  }
  return values;
}

function strippedLines(text: string): string[] {
  return text
    .replace(/^\s+|\s+$/gu, '')
    .split('\n')
    .map((line) => line.replace(/^\s+|\s+$/gu, ''));
}

/** Compare a program's stdout with the expected output as LiveCodeBench does. */
export function compareStdout(prediction: string, expected: string): OutputComparison {
  const predictedLines = strippedLines(prediction);
  const expectedLines = strippedLines(expected);
  if (predictedLines.length !== expectedLines.length) {
    return { equal: false, reason: 'Wrong answer: mismatched output length' };
  }
  for (const [index, predicted] of predictedLines.entries()) {
    const wanted = expectedLines[index] ?? '';
    if (predicted === wanted) continue;
    const predictedValues = decimalLine(predicted);
    const wantedValues = decimalLine(wanted);
    const equal =
      predictedValues !== undefined &&
      wantedValues !== undefined &&
      predictedValues.length === wantedValues.length &&
      predictedValues.every((value, position) => {
        const other = wantedValues[position];
        return other !== undefined && decimalsEqual(value, other);
      });
    if (!equal)
      return {
        equal: false,
        reason: `Wrong answer at output_line_idx=${index}: ${predicted.slice(0, 300)} != ${wanted.slice(0, 300)}`,
      };
  }
  return { equal: true };
}
