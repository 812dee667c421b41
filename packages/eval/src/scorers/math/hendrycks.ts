/**
 * A faithful port of the Hendrycks MATH `is_equiv` / `strip_string` normalisation (the protocol default of
 * both of the paper's harnesses). Where the Python raises inside `strip_string` (an assertion or an index
 * error), `is_equiv` falls back to raw string equality; this port throws the same way and catches it the
 * same way.
 */

class NormalisationFailed extends Error {}

function fixFracs(text: string): string {
  const parts = text.split('\\frac');
  let result = parts[0] ?? '';
  for (const part of parts.slice(1)) {
    result += '\\frac';
    if (part.length === 0) throw new NormalisationFailed('empty \\frac');
    if (part[0] === '{') {
      result += part;
      continue;
    }
    if (part.length < 2) return text;
    const numerator = part[0];
    const denominator = part[1];
    const rest = part.slice(2);
    if (denominator !== '{') result += `{${numerator}}{${denominator}}${rest}`;
    else result += `{${numerator}}${denominator}${rest}`;
  }
  return result;
}

/** Python `int()` followed by the round-trip assertion accepts only canonical integers. */
const canonicalInteger = /^(0|-?[1-9][0-9]*)$/;

function fixSlash(text: string): string {
  const parts = text.split('/');
  if (parts.length !== 2) return text;
  const [numerator, denominator] = parts as [string, string];
  if (!canonicalInteger.test(numerator) || !canonicalInteger.test(denominator)) return text;
  return `\\frac{${numerator}}{${denominator}}`;
}

function removeRightUnits(text: string): string {
  if (!text.includes('\\text{ ')) return text;
  const parts = text.split('\\text{ ');
  if (parts.length !== 2) throw new NormalisationFailed('several \\text{ } units');
  return parts[0]!;
}

function fixSqrt(text: string): string {
  if (!text.includes('\\sqrt')) return text;
  const parts = text.split('\\sqrt');
  let result = parts[0] ?? '';
  for (const part of parts.slice(1)) {
    if (part.length === 0) throw new NormalisationFailed('empty \\sqrt');
    result += part[0] !== '{' ? `\\sqrt{${part[0]}}${part.slice(1)}` : `\\sqrt${part}`;
  }
  return result;
}

/** Hendrycks `strip_string`. Throws where the Python would raise. */
export function stripString(input: string): string {
  let text = input.replaceAll('\n', '');
  text = text.replaceAll('\\!', '');
  text = text.replaceAll('\\\\', '\\');
  text = text.replaceAll('tfrac', 'frac').replaceAll('dfrac', 'frac');
  text = text.replaceAll('\\left', '').replaceAll('\\right', '');
  text = text.replaceAll('^{\\circ}', '').replaceAll('^\\circ', '');
  text = text.replaceAll('\\$', '');
  text = removeRightUnits(text);
  text = text.replaceAll('\\%', '');
  text = text.replaceAll(' .', ' 0.').replaceAll('{.', '{0.');
  if (text.length === 0) return text;
  if (text[0] === '.') text = `0${text}`;
  const sides = text.split('=');
  if (sides.length === 2 && sides[0]!.length <= 2) text = sides[1]!;
  text = fixSqrt(text);
  text = text.replaceAll(' ', '');
  text = fixFracs(text);
  if (text === '0.5') text = '\\frac{1}{2}';
  text = fixSlash(text);
  return text;
}

/** Hendrycks `is_equiv`: both strings through `strip_string`, then string equality. */
export function isEquivHendrycks(gold: string | null, predicted: string | null): boolean {
  if (gold === null && predicted === null) return true;
  if (gold === null || predicted === null) return false;
  try {
    return stripString(gold) === stripString(predicted);
  } catch {
    return gold === predicted;
  }
}

/**
 * The lm-eval variant used by the paper's `olympiad`, `AIME` and `aime25` tasks: `$` delimiters, leading zeros and
 * a trailing `.0…` are removed from both strings first (so `$2$` equals `2`, `023` equals `23` and `5.00` equals
 * `5`), then `is_equiv`.
 */
export function isEquivLmEval(gold: string | null, predicted: string | null): boolean {
  const clean = (text: string | null) =>
    text === null
      ? null
      : text
          .replaceAll('$', '')
          .trim()
          .replace(/^0+(?=\d)/, '')
          .replace(/(\d)\.0+$/, '$1');
  return isEquivHendrycks(clean(gold), clean(predicted));
}
