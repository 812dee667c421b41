import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * A port of the `langdetect` algorithm (Nakatani Shuyo's language-detection, which the Python `langdetect`
 * package used by the IFEval reference also ports): character 1-3-gram profiles of 53 languages, naive-Bayes
 * updates over randomly drawn n-grams, 7 trials, probability threshold 0.1.
 *
 * Differences from the Python reference (documented in README.md):
 * - the random draws use a seeded xorshift generator, so the result is deterministic (the reference is
 *   unseeded unless `DetectorFactory.seed` is set, so its verdict on borderline texts can vary run to run);
 * - the profiles are those shipped by the npm `langdetect@0.2.1` package (53 languages: Python's 55 less
 *   `ca` and `cy`);
 * - the Vietnamese normalisation is approximated by Unicode NFC.
 */

interface ProfileFile {
  cjk: Record<string, string>;
  profiles: Record<string, { n_words: number[]; freq: Record<string, number> }>;
}

interface Model {
  languages: string[];
  /** n-gram -> probability per language (index into `languages`), or null when no profile has it. */
  rowFor(gram: string): Float64Array | null;
  cjkMap: Map<string, string>;
}

let cachedModel: Model | undefined;

function loadModel(): Model {
  if (cachedModel) return cachedModel;
  const raw = gunzipSync(readFileSync(new URL('./language-profiles.json.gz', import.meta.url))).toString(
    'utf8',
  );
  const file = JSON.parse(raw) as ProfileFile;
  const languages = Object.keys(file.profiles).sort();
  const profiles = languages.map((language) => file.profiles[language] ?? { n_words: [], freq: {} });
  // Rows are built on first use: a text touches a few hundred of the 66k n-grams, and building them all up front
  // costs most of a second.
  const rows = new Map<string, Float64Array | null>();
  const rowFor = (gram: string): Float64Array | null => {
    const cached = rows.get(gram);
    if (cached !== undefined) return cached;
    const length = [...gram].length;
    let row: Float64Array | null = null;
    if (length >= 1 && length <= 3) {
      profiles.forEach((profile, index) => {
        const count = Object.hasOwn(profile.freq, gram) ? profile.freq[gram] : undefined;
        const total = profile.n_words[length - 1];
        if (count === undefined || !total) return;
        row ??= new Float64Array(languages.length);
        row[index] = count / total;
      });
    }
    rows.set(gram, row);
    return row;
  };
  const cjkMap = new Map<string, string>();
  for (const members of Object.values(file.cjk)) {
    const characters = [...members];
    const representative = characters[0];
    if (!representative) continue;
    for (const character of characters) cjkMap.set(character, representative);
  }
  cachedModel = { languages, rowFor, cjkMap };
  return cachedModel;
}

const LATIN1_EXCLUDED = '\u00A0\u00AB\u00B0\u00BB';
const NGRAM_SIZE = 3;
const TRIALS = 7;
const ALPHA_DEFAULT = 0.5;
const ALPHA_WIDTH = 0.05;
const ITERATION_LIMIT = 1000;
const PROBABILITY_THRESHOLD = 0.1;
const CONVERGENCE_THRESHOLD = 0.99999;
const BASE_FREQUENCY = 10000;
const MAX_TEXT_LENGTH = 10000;
const URL_PATTERN = /https?:\/\/[-_.?&~;+=/#0-9A-Za-z]{1,2076}/g;
const MAIL_PATTERN = /[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}/g;

function inRange(code: number, low: number, high: number): boolean {
  return code >= low && code <= high;
}

function normalizeCharacter(character: string, cjkMap: Map<string, string>): string {
  const code = character.codePointAt(0) ?? 0;
  if (code <= 0x7f) {
    const isLetter = inRange(code, 0x41, 0x5a) || inRange(code, 0x61, 0x7a);
    return isLetter ? character : ' ';
  }
  if (code <= 0xff) return LATIN1_EXCLUDED.includes(character) ? ' ' : character;
  if (inRange(code, 0x180, 0x24f)) {
    if (code === 0x219) return '\u015f';
    if (code === 0x21b) return '\u0163';
    return character;
  }
  if (inRange(code, 0x2000, 0x206f)) return ' ';
  if (inRange(code, 0x600, 0x6ff)) return code === 0x6cc ? '\u064a' : character;
  if (inRange(code, 0x1e00, 0x1eff)) return code >= 0x1ea0 ? '\u1ec3' : character;
  if (inRange(code, 0x3040, 0x309f)) return '\u3042';
  if (inRange(code, 0x30a0, 0x30ff)) return '\u30a2';
  if (inRange(code, 0x3100, 0x312f) || inRange(code, 0x31a0, 0x31bf)) return '\u3105';
  if (inRange(code, 0x4e00, 0x9fff)) return cjkMap.get(character) ?? character;
  if (inRange(code, 0xac00, 0xd7af)) return '\uac00';
  return character;
}

const UPPERCASE = /\p{Lu}/u;

function isUpperCharacter(character: string): boolean {
  return character !== ' ' && character !== '' && UPPERCASE.test(character);
}

/** langdetect's `cleaning_text`: when non-Latin letters dominate, drop the Latin letters A..z (only those). */
function cleanText(text: string): string {
  let latinCount = 0;
  let nonLatinCount = 0;
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (inRange(code, 0x41, 0x7a)) latinCount += 1;
    else if (code >= 0x300 && !inRange(code, 0x1e00, 0x1eff)) nonLatinCount += 1;
  }
  if (latinCount * 2 >= nonLatinCount) return text;
  let withoutLatin = '';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (!inRange(code, 0x41, 0x7a)) withoutLatin += character;
  }
  return withoutLatin;
}

/** The n-gram rows (per-language probabilities) of every 1-3-gram the text yields, in text order. */
function extractNgramRows(text: string, model: Model): Float64Array[] {
  const result: Float64Array[] = [];
  // The last (up to) three characters, as in langdetect's NGram buffer, which starts as a single space.
  let grams: string[] = [' '];
  let capitalWord = false;
  for (const raw of text) {
    const character = normalizeCharacter(raw, model.cjkMap);
    const lastCharacter = grams[grams.length - 1] ?? '';
    if (lastCharacter === ' ') {
      grams = [' '];
      capitalWord = false;
      if (character === ' ') continue;
    } else if (grams.length >= NGRAM_SIZE) {
      grams.shift();
    }
    grams.push(character);
    if (isUpperCharacter(character)) {
      if (isUpperCharacter(lastCharacter)) capitalWord = true;
    } else {
      capitalWord = false;
    }
    if (capitalWord) continue;
    const length = grams.length;
    let gram = '';
    for (let size = 1; size <= NGRAM_SIZE && size <= length; size += 1) {
      gram = (grams[length - size] ?? '') + gram;
      if (gram === ' ') continue;
      const row = model.rowFor(gram);
      if (row) result.push(row);
    }
  }
  return result;
}

/** A small deterministic generator (xorshift32) with a Box-Muller gaussian. */
class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let value = this.state;
    value ^= value << 13;
    value ^= value >>> 17;
    value ^= value << 5;
    this.state = value >>> 0;
    return this.state / 0x100000000;
  }
  gaussian(): number {
    const first = Math.max(this.next(), Number.MIN_VALUE);
    const second = this.next();
    return Math.sqrt(-2 * Math.log(first)) * Math.cos(2 * Math.PI * second);
  }
}

/** One detected language with its probability. */
export interface LanguageProbability {
  language: string;
  probability: number;
}

/**
 * Language probabilities above 0.1, most probable first; `[]` when the text has no usable features (the
 * reference raises `LangDetectException` there, and the IFEval checkers count that as "followed").
 *
 * @example
 * detectLanguages('Der schnelle braune Fuchs springt über den faulen Hund.')[0]?.language; // 'de'
 */
export function detectLanguages(text: string, seed = 0): LanguageProbability[] {
  return detect(text, seed) ?? [];
}

function detect(text: string, seed: number): LanguageProbability[] | undefined {
  const model = loadModel();
  // As langdetect's `append`: URLs and e-mail addresses out, then the first 10,000 characters, runs of spaces
  // collapsed.
  let prepared = text.replace(URL_PATTERN, ' ').replace(MAIL_PATTERN, ' ').normalize('NFC');
  prepared = prepared.slice(0, MAX_TEXT_LENGTH).replace(/ {2,}/g, ' ');
  prepared = cleanText(prepared);
  const rows = extractNgramRows(prepared, model);
  if (rows.length === 0) return undefined;
  const languageCount = model.languages.length;
  const total = new Float64Array(languageCount);
  const random = new SeededRandom(seed);
  for (let trial = 0; trial < TRIALS; trial += 1) {
    const probability = new Float64Array(languageCount).fill(1 / languageCount);
    const alpha = ALPHA_DEFAULT + random.gaussian() * ALPHA_WIDTH;
    const weight = alpha / BASE_FREQUENCY;
    for (let iteration = 0; ; iteration += 1) {
      const row = rows[Math.floor(random.next() * rows.length)];
      if (row) {
        for (let index = 0; index < languageCount; index += 1) {
          probability[index] = (probability[index] ?? 0) * (weight + (row[index] ?? 0));
        }
      }
      if (iteration % 5 === 0) {
        let sum = 0;
        for (const value of probability) sum += value;
        let maximum = 0;
        for (let index = 0; index < languageCount; index += 1) {
          const normalized = (probability[index] ?? 0) / sum;
          probability[index] = normalized;
          if (normalized > maximum) maximum = normalized;
        }
        if (maximum > CONVERGENCE_THRESHOLD || iteration >= ITERATION_LIMIT) break;
      }
    }
    for (let index = 0; index < languageCount; index += 1)
      total[index] = (total[index] ?? 0) + (probability[index] ?? 0) / TRIALS;
  }
  const result: LanguageProbability[] = [];
  model.languages.forEach((language, index) => {
    const value = total[index] ?? 0;
    if (value > PROBABILITY_THRESHOLD) result.push({ language, probability: value });
  });
  return result.sort((left, right) => right.probability - left.probability);
}

/**
 * The most probable language code (`en`, `de`, `zh-cn`...), `'unknown'` when none passes the threshold, or
 * `undefined` when the text has no usable features (the reference's `LangDetectException`).
 */
export function detectLanguage(text: string, seed = 0): string | undefined {
  const result = detect(text, seed);
  if (result === undefined) return undefined;
  return result[0]?.language ?? 'unknown';
}
