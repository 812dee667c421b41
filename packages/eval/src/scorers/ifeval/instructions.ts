import { parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';
import { detectLanguage } from './language-detector.js';
import {
  compilePythonPattern,
  countSentences,
  countWords,
  isLower,
  isUpper,
  pythonStrip,
  stripCharacters,
  wordTokenize,
} from './text-utilities.js';

/** A checker built from one instruction's arguments: does a response follow the instruction? */
export type InstructionCheck = (response: string) => boolean;

/** Where an instruction's arguments came from, for error messages. */
export interface InstructionSource {
  file?: string;
  line?: number;
  /** Dotted path prefix of the arguments, e.g. `kwargs[1]`. */
  field?: string;
  /** Path of the instruction id, e.g. `instruction_id_list[1]`. */
  instructionField?: string;
}

const relation = z.enum(['less than', 'at least']);
const count = z.number().int().nonnegative();

function compare(actual: number, comparison: 'less than' | 'at least', threshold: number): boolean {
  return comparison === 'less than' ? actual < threshold : actual >= threshold;
}

// The loose check runs up to eight variants that are often identical: remember the last few detections.
const recentDetections = new Map<string, string | undefined>();

function cachedDetectLanguage(text: string): string | undefined {
  if (recentDetections.has(text)) return recentDetections.get(text);
  const language = detectLanguage(text);
  if (recentDetections.size >= 32) {
    const oldest = recentDetections.keys().next().value;
    if (oldest !== undefined) recentDetections.delete(oldest);
  }
  recentDetections.set(text, language);
  return language;
}

function languageOr(
  text: string,
  whenUndetectable: boolean,
  predicate: (language: string) => boolean,
): boolean {
  const language = cachedDetectLanguage(text);
  // The reference counts a LangDetectException ("no features in text") as followed.
  return language === undefined ? whenUndetectable : predicate(language);
}

function countMatches(pattern: RegExp, text: string): number {
  return [...text.matchAll(pattern)].length;
}

interface InstructionDefinition<S extends z.ZodType> {
  arguments: S;
  build(args: z.output<S>, prompt: string): InstructionCheck;
}

function define<S extends z.ZodType>(definition: InstructionDefinition<S>): InstructionDefinition<S> {
  return definition;
}

const CONSTRAINED_RESPONSES = ['My answer is yes.', 'My answer is no.', 'My answer is maybe.'];

/**
 * The 25 IFEval instructions of Google's `instructions_registry.INSTRUCTION_DICT` (as used by lm-eval's
 * `ifeval` task), each with its argument schema and checker.
 */
const definitions = {
  'keywords:existence': define({
    arguments: z.strictObject({ keywords: z.array(z.string().min(1)).min(1) }),
    build: ({ keywords }) => {
      const patterns = [...keywords].sort().map((keyword) => compilePythonPattern(keyword, 'i'));
      return (response) => patterns.every((pattern) => pattern.test(response));
    },
  }),
  'keywords:frequency': define({
    arguments: z.strictObject({ keyword: z.string().min(1), frequency: count, relation }),
    build: (args) => {
      const pattern = compilePythonPattern(pythonStrip(args.keyword), 'gi');
      return (response) => compare(countMatches(pattern, response), args.relation, args.frequency);
    },
  }),
  'keywords:forbidden_words': define({
    arguments: z.strictObject({ forbidden_words: z.array(z.string().min(1)).min(1) }),
    build: ({ forbidden_words: words }) => {
      const patterns = [...new Set(words)].sort().map((word) => compilePythonPattern(`\\b${word}\\b`, 'i'));
      return (response) => !patterns.some((pattern) => pattern.test(response));
    },
  }),
  'keywords:letter_frequency': define({
    arguments: z.strictObject({ letter: z.string().length(1), let_frequency: count, let_relation: relation }),
    build: (args) => {
      // The reference replaces a non a-z "letter" (the data has '#' and '!') by a random letter; xfer counts the
      // given character instead, so the verdict is deterministic.
      const letter = args.letter.toLowerCase();
      return (response) => {
        let occurrences = 0;
        for (const character of response.toLowerCase()) if (character === letter) occurrences += 1;
        return compare(occurrences, args.let_relation, args.let_frequency);
      };
    },
  }),
  'language:response_language': define({
    arguments: z.strictObject({ language: z.string().min(2) }),
    build:
      ({ language }) =>
      (response) =>
        languageOr(response, true, (detected) => detected === language),
  }),
  'length_constraints:number_sentences': define({
    arguments: z.strictObject({ num_sentences: count, relation }),
    build: (args) => (response) => compare(countSentences(response), args.relation, args.num_sentences),
  }),
  'length_constraints:number_paragraphs': define({
    arguments: z.strictObject({ num_paragraphs: count }),
    build:
      ({ num_paragraphs: expected }) =>
      (response) => {
        const paragraphs = response.split(/\s?\*\*\*\s?/u);
        let paragraphCount = paragraphs.length;
        for (const [index, paragraph] of paragraphs.entries()) {
          if (pythonStrip(paragraph)) continue;
          if (index === 0 || index === paragraphs.length - 1) paragraphCount -= 1;
          else return false;
        }
        return paragraphCount === expected;
      },
  }),
  'length_constraints:number_words': define({
    arguments: z.strictObject({ num_words: count, relation }),
    build: (args) => (response) => compare(countWords(response), args.relation, args.num_words),
  }),
  'length_constraints:nth_paragraph_first_word': define({
    arguments: z.strictObject({
      num_paragraphs: z.number().int().positive(),
      nth_paragraph: z.number().int().positive(),
      first_word: z.string().min(1),
    }),
    build: (args) => {
      const expectedWord = args.first_word.toLowerCase();
      return (response) => {
        const paragraphs = response.split('\n\n');
        let paragraphCount = paragraphs.length;
        for (const paragraph of paragraphs) if (!pythonStrip(paragraph)) paragraphCount -= 1;
        if (args.nth_paragraph > paragraphCount) return false;
        const paragraph = pythonStrip(paragraphs[args.nth_paragraph - 1] ?? '');
        if (!paragraph) return false;
        let word = paragraph.split(/\s+/u)[0] ?? '';
        word = word.replace(/^'+/u, '').replace(/^"+/u, '');
        let firstWord = '';
        for (const character of word) {
          if ('.,?!\'"'.includes(character)) break;
          firstWord += character.toLowerCase();
        }
        return paragraphCount === args.num_paragraphs && firstWord === expectedWord;
      };
    },
  }),
  'detectable_content:number_placeholders': define({
    arguments: z.strictObject({ num_placeholders: count }),
    build:
      ({ num_placeholders: minimum }) =>
      (response) =>
        countMatches(/\[.*?\]/gu, response) >= minimum,
  }),
  'detectable_content:postscript': define({
    arguments: z.strictObject({ postscript_marker: z.string().min(1) }),
    build: ({ postscript_marker: rawMarker }) => {
      const marker = pythonStrip(rawMarker);
      let pattern: RegExp;
      if (marker === 'P.P.S') pattern = /\s*p\.\s?p\.\s?s.*$/mu;
      else if (marker === 'P.S.') pattern = /\s*p\.\s?s\..*$/mu;
      else pattern = compilePythonPattern(`\\s*${marker.toLowerCase()}.*$`, 'm');
      return (response) => pattern.test(response.toLowerCase());
    },
  }),
  'detectable_format:number_bullet_lists': define({
    arguments: z.strictObject({ num_bullets: count }),
    build:
      ({ num_bullets: expected }) =>
      (response) =>
        countMatches(/^\s*\*[^*].*$/gmu, response) + countMatches(/^\s*-.*$/gmu, response) === expected,
  }),
  'detectable_format:constrained_response': define({
    arguments: z.strictObject({}),
    build: () => (response) => {
      const value = pythonStrip(response);
      return CONSTRAINED_RESPONSES.some((option) => value.includes(option));
    },
  }),
  'detectable_format:number_highlighted_sections': define({
    arguments: z.strictObject({ num_highlights: count }),
    build:
      ({ num_highlights: minimum }) =>
      (response) => {
        let highlights = 0;
        for (const match of response.matchAll(/\*[^\n*]*\*/gu))
          if (pythonStrip(stripCharacters(match[0], '*'))) highlights += 1;
        for (const match of response.matchAll(/\*\*[^\n*]*\*\*/gu))
          if (pythonStrip(match[0].slice(2, -2))) highlights += 1;
        return highlights >= minimum;
      },
  }),
  'detectable_format:multiple_sections': define({
    arguments: z.strictObject({ section_spliter: z.string().min(1), num_sections: count }),
    build: (args) => {
      const pattern = compilePythonPattern(`\\s?${pythonStrip(args.section_spliter)}\\s?\\d+\\s?`, 'g');
      return (response) => response.split(pattern).length - 1 >= args.num_sections;
    },
  }),
  'detectable_format:json_format': define({
    arguments: z.strictObject({}),
    build: () => (response) => {
      let value = pythonStrip(response);
      for (const prefix of ['```json', '```Json', '```JSON', '```'])
        if (value.startsWith(prefix)) value = value.slice(prefix.length);
      if (value.endsWith('```')) value = value.slice(0, -3);
      value = pythonStrip(value);
      try {
        JSON.parse(value);
        return true;
      } catch {
        return false;
      }
    },
  }),
  'detectable_format:title': define({
    arguments: z.strictObject({}),
    build: () => (response) => {
      for (const match of response.matchAll(/<<[^\n]+>>/gu)) {
        if (pythonStrip(match[0].replace(/^<+/u, '').replace(/>+$/u, ''))) return true;
      }
      return false;
    },
  }),
  'combination:two_responses': define({
    arguments: z.strictObject({}),
    build: () => (response) => {
      const valid: string[] = [];
      const parts = response.split('******');
      for (const [index, part] of parts.entries()) {
        if (pythonStrip(part)) valid.push(part);
        else if (index !== 0 && index !== parts.length - 1) return false;
      }
      return valid.length === 2 && pythonStrip(valid[0] ?? '') !== pythonStrip(valid[1] ?? '');
    },
  }),
  'combination:repeat_prompt': define({
    arguments: z.strictObject({ prompt_to_repeat: z.string().min(1) }),
    build: ({ prompt_to_repeat: prompt }) => {
      const expected = pythonStrip(prompt).toLowerCase();
      return (response) => pythonStrip(response).toLowerCase().startsWith(expected);
    },
  }),
  'startend:end_checker': define({
    arguments: z.strictObject({ end_phrase: z.string().min(1) }),
    build: ({ end_phrase: phrase }) => {
      const expected = pythonStrip(phrase).toLowerCase();
      return (response) => stripCharacters(pythonStrip(response), '"').toLowerCase().endsWith(expected);
    },
  }),
  'startend:quotation': define({
    arguments: z.strictObject({}),
    build: () => (response) => {
      const value = pythonStrip(response);
      return value.length > 1 && value.startsWith('"') && value.endsWith('"');
    },
  }),
  'change_case:capital_word_frequency': define({
    arguments: z.strictObject({ capital_frequency: count, capital_relation: relation }),
    build: (args) => (response) => {
      const capitalWords = wordTokenize(response).filter((token) => isUpper(token)).length;
      return compare(capitalWords, args.capital_relation, args.capital_frequency);
    },
  }),
  'change_case:english_capital': define({
    arguments: z.strictObject({}),
    build: () => (response) =>
      isUpper(response) && languageOr(response, true, (language) => language === 'en'),
  }),
  'change_case:english_lowercase': define({
    arguments: z.strictObject({}),
    build: () => (response) =>
      isLower(response) && languageOr(response, true, (language) => language === 'en'),
  }),
  'punctuation:no_comma': define({
    arguments: z.strictObject({}),
    build: () => (response) => !response.includes(','),
  }),
} satisfies Record<string, InstructionDefinition<z.ZodType>>;

/** One of the 25 IFEval instruction ids. */
export type InstructionId = keyof typeof definitions;

/** Every instruction id xfer checks, in the reference registry's order. */
export const instructionIds = Object.keys(definitions) as InstructionId[];

/** Python truthiness of a JSON value: `None`, `0`, `''`, `[]` and `{}` are falsy. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Is `id` one of the 25 IFEval instruction ids? */
export function isInstructionId(id: string): id is InstructionId {
  return Object.hasOwn(definitions, id);
}

/**
 * Build the checker for one instruction. Arguments whose value is falsy (`null`, `0`, `''`) are dropped first,
 * as the reference does; the rest must match the instruction's argument schema, or a ValidationError names the
 * file, line and field.
 *
 * @example
 * const check = buildInstruction('punctuation:no_comma', {}, 'Write without commas.');
 * check('No commas here'); // true
 */
export function buildInstruction(
  id: string,
  rawArguments: Record<string, unknown> | null | undefined,
  prompt: string,
  source: InstructionSource = {},
): InstructionCheck {
  const field = source.field ?? 'kwargs';
  if (!isInstructionId(id)) {
    throw new ValidationError({
      message: `unknown IFEval instruction id '${id}'`,
      ...(source.file === undefined ? {} : { file: source.file }),
      ...(source.line === undefined ? {} : { line: source.line }),
      field: source.instructionField ?? 'instruction_id_list',
    });
  }
  const definition = definitions[id] as InstructionDefinition<z.ZodType>;
  const kept = Object.fromEntries(Object.entries(rawArguments ?? {}).filter(([, value]) => isTruthy(value)));
  const args = parseWith(definition.arguments, kept, { ...source, field });
  return definition.build(args, prompt);
}
