import type { Verdict } from '@xfer/core';
import { responseFlags, stripReasoning } from './thinking.js';
import type { GenerativeScorer } from './types.js';

const standaloneLetter = /(?<![\p{L}\p{N}_])(A|B|C|D)(?![\p{L}\p{N}_])/gu;

/**
 * evalchemy `get_multiple_choice_answer`: upper-case the output, take the LAST standalone A/B/C/D (Python's
 * Unicode `\b`); with none, the whole output stripped of spaces and dots; then strip trailing `.` and `/`.
 */
export function extractGpqaLetter(response: string): string {
  const matches = [...response.toUpperCase().matchAll(standaloneLetter)].map((match) => match[1]!);
  const candidate = matches.length > 0 ? matches.at(-1)! : response.trim().replace(/^\.+|\.+$/g, '');
  return candidate.replace(/\.+$/, '').replace(/\/+$/, '');
}

/** GPQA-Diamond letter scorer: the extracted letter must equal the gold letter exactly. */
export const gpqaLetterScorer: GenerativeScorer = {
  kind: 'generative',
  name: 'gpqa-letter',
  version: '1',
  score({ item, completion, finishReason }): Verdict {
    const stripped = stripReasoning(completion);
    const extracted = extractGpqaLetter(stripped.text);
    const correct = extracted === String(item.target);
    return {
      grader: 'gpqa-letter',
      graderVersion: '1',
      extracted,
      correct,
      score: correct ? 1 : 0,
      details: responseFlags(stripped, finishReason),
    };
  },
};
