/**
 * Exact answer extraction for the nano-suite, following the paper's protocols in miniature: last `\boxed{}`
 * for math, letter extraction for multiple choice, first line after the reasoning for extractive QA and
 * instruction following, exactly one of Yes/No for judgements.
 */

/** Everything after the last `</think>` (the whole text when there is none). */
export function stripThinking(text: string): string {
  const end = text.lastIndexOf('</think>');
  return (end === -1 ? text : text.slice(end + '</think>'.length)).trim();
}

/** Contents of the last `\boxed{...}` (braces balanced), or null. */
export function extractLastBoxed(text: string): string | null {
  const start = text.lastIndexOf('\\boxed{');
  if (start === -1) return null;
  let depth = 0;
  for (let index = start + '\\boxed'.length; index < text.length; index++) {
    const char = text[index];
    if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) return text.slice(start + '\\boxed{'.length, index);
    }
  }
  return null;
}

/** Normalise a short math answer: drop spaces, thousands commas, `x=`, a trailing period, `+` signs, leading zeros. */
export function normalizeMathAnswer(answer: string): string {
  let value = answer
    .replace(/\s+/g, '')
    .replace(/,/g, '')
    .replace(/^\$|\$$/g, '');
  value = value
    .replace(/^[a-z]=/i, '')
    .replace(/\.$/, '')
    .replace(/^\+/, '');
  if (/^-?\d+$/.test(value)) return String(Number.parseInt(value, 10));
  return value;
}

/** The first non-empty line of the answer part (after any reasoning). */
export function firstAnswerLine(text: string): string {
  const lines = stripThinking(text)
    .split('\n')
    .map((line) => line.trim());
  return lines.find((line) => line !== '') ?? '';
}

/**
 * A multiple-choice letter: `\boxed{X}` first, then the last `Answer: X`, then the last standalone capital
 * A-D (ACPBench / GPQA style). Null when none is found.
 */
export function extractChoiceLetter(text: string, letters = 'ABCD'): string | null {
  const answer = stripThinking(text);
  const boxed = extractLastBoxed(answer);
  const set = `[${letters}]`;
  if (boxed !== null) {
    const inside = boxed.trim().match(new RegExp(`^\\(?(${set})\\)?$`));
    if (inside) return inside[1]!;
  }
  const labelled = [...answer.matchAll(new RegExp(`answer\\s*(?:is)?\\s*:?\\s*\\(?(${set})\\b`, 'gi'))];
  if (labelled.length > 0) return labelled[labelled.length - 1]![1]!.toUpperCase();
  const standalone = [...answer.matchAll(new RegExp(`(?<![A-Za-z])(${set})(?![A-Za-z])`, 'g'))];
  return standalone.length > 0 ? standalone[standalone.length - 1]![1]! : null;
}

/** HaluEval's judgement: the first line must contain exactly one of "Yes" / "No". */
export function extractYesNo(text: string): 'Yes' | 'No' | null {
  const line = firstAnswerLine(text);
  const yes = /\byes\b/i.test(line);
  const no = /\bno\b/i.test(line);
  if (yes === no) return null;
  return yes ? 'Yes' : 'No';
}

/** SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeSquad(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** SQuAD token F1 between a prediction and a reference. */
export function squadF1(prediction: string, reference: string): number {
  const predicted = normalizeSquad(prediction).split(' ').filter(Boolean);
  const expected = normalizeSquad(reference).split(' ').filter(Boolean);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      common++;
      counts.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / expected.length;
  return (2 * precision * recall) / (precision + recall);
}
