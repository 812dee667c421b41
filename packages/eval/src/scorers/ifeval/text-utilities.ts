/**
 * Text helpers with the semantics of the IFEval reference (`instructions_util.py` and the Python `str`
 * methods it relies on). Where the reference calls NLTK (punkt sentence splitting, `word_tokenize`), these
 * are rule-based approximations; README.md lists the differences.
 */

const WORD_CHARACTER = '[\\p{L}\\p{N}_]';

/** Python's `str.strip()` with no argument (Unicode whitespace). */
export function pythonStrip(text: string): string {
  return text.replace(/^\s+|\s+$/gu, '');
}

/** Python's `str.strip(chars)`. */
export function stripCharacters(text: string, characters: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && characters.includes(text.charAt(start))) start += 1;
  while (end > start && characters.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/** Python's `str.isupper()`: at least one cased character and no lowercase (or titlecase) one. */
export function isUpper(text: string): boolean {
  return /\p{Uppercase}/u.test(text) && !/[\p{Lowercase}\p{Lt}]/u.test(text);
}

/** Python's `str.islower()`: at least one cased character and no uppercase (or titlecase) one. */
export function isLower(text: string): boolean {
  return /\p{Lowercase}/u.test(text) && !/[\p{Uppercase}\p{Lt}]/u.test(text);
}

/**
 * Compile a Python `re` pattern for JavaScript: `\b`, `\w`, `\W` become Unicode-aware as they are in Python 3
 * (JavaScript's stay ASCII even with the `u` flag). Falls back to a literal match when the source is not a valid
 * JavaScript pattern.
 */
export function compilePythonPattern(source: string, flags: string): RegExp {
  // `\bword\b` (the forbidden-words form) only needs one-sided lookarounds, which run much faster than the
  // general two-sided boundary.
  let body = source;
  let prefix = '';
  let suffix = '';
  if (body.startsWith('\\b') && /^[\p{L}\p{N}_]/u.test(body.slice(2))) {
    prefix = `(?<!${WORD_CHARACTER})`;
    body = body.slice(2);
  }
  if (body.endsWith('\\b') && !body.endsWith('\\\\b') && /[\p{L}\p{N}_]$/u.test(body.slice(0, -2))) {
    suffix = `(?!${WORD_CHARACTER})`;
    body = body.slice(0, -2);
  }
  const translated = body
    .replace(
      /\\b/g,
      `(?:(?<=${WORD_CHARACTER})(?!${WORD_CHARACTER})|(?<!${WORD_CHARACTER})(?=${WORD_CHARACTER}))`,
    )
    .replace(/\\w/g, WORD_CHARACTER)
    .replace(/\\W/g, '[^\\p{L}\\p{N}_]');
  const unicodeFlags = flags.includes('u') ? flags : `${flags}u`;
  try {
    return new RegExp(`${prefix}${translated}${suffix}`, unicodeFlags);
  } catch {
    return new RegExp(source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), unicodeFlags);
  }
}

/** `nltk.tokenize.RegexpTokenizer(r"\w+")` token count: runs of Unicode letters, digits and underscores. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}_]+/gu)?.length ?? 0;
}

/**
 * Abbreviations after which a period does not end a sentence. A subset of what punkt's English model learned,
 * kept to the frequent ones.
 */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'jr',
  'sr',
  'vs',
  'e.g',
  'i.e',
  'etc',
  'inc',
  'ltd',
  'co',
  'corp',
  'u.s',
  'u.k',
  'a.m',
  'p.m',
  'no',
  'fig',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'mt',
  'ft',
  'gen',
  'gov',
  'sen',
  'rep',
  'rev',
  'lt',
  'col',
  'capt',
  'sgt',
  'approx',
  'dept',
  'est',
  'vol',
  'ed',
  'pp',
  'cf',
  'al',
  'ph.d',
  'b.a',
  'm.a',
  'u.s.a',
]);

/**
 * Split into sentences the way NLTK's punkt (English) does for ordinary prose: a sentence ends at `.`, `?` or
 * `!` (possibly repeated, possibly followed by closing quotes or brackets) followed by whitespace; newlines alone
 * do not end a sentence. A period after a known abbreviation, after a capital initial, or after an initial, a
 * number followed by a lowercase word, or an ellipsis not followed by a capital, does not end one.
 */
export function splitSentencesPunkt(text: string): string[] {
  const sentences: string[] = [];
  const boundary = /([.?!]+)(["'\u201d\u2019)\]]*)(\s+)(?=(\S))/gu;
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const punctuation = match[1] ?? '';
    const closers = match[2] ?? '';
    const nextCharacter = match[4] ?? '';
    const end = (match.index ?? 0) + punctuation.length + closers.length;
    const before = text.slice(start, match.index ?? 0);
    const lastToken = (before.match(/\S+$/u)?.[0] ?? '').replace(/^["'\u201c\u2018([]+/u, '');
    const nextIsLower = /\p{Ll}/u.test(nextCharacter);
    if (punctuation === '.' && closers === '') {
      const lowered = lastToken.toLowerCase();
      if (ABBREVIATIONS.has(lowered)) continue;
      // Initials and numbers ("J.", "(1.") end a sentence only before a capitalised word (punkt's orthographic
      // heuristic); a capital initial before a capital ("J. Smith") does not either.
      const isInitial = /^\p{L}$/u.test(lastToken);
      const isNumber = /^-?[.,]?\d[\d,.-]*$/u.test(lastToken.replace(/^[([{]+/u, ''));
      if ((isInitial || isNumber) && nextIsLower) continue;
      if (isInitial && lastToken === lastToken.toUpperCase()) continue;
      if (/^(\p{L}\.)+\p{L}$/u.test(lastToken)) continue;
    }
    // An ellipsis ends a sentence only before a capitalised word.
    if (punctuation.startsWith('..') && !/\p{Lu}/u.test(nextCharacter)) continue;
    const sentence = text.slice(start, end).trim();
    if (sentence) sentences.push(sentence);
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** `instructions_util.count_sentences`: the number of punkt sentences (see {@link splitSentencesPunkt}). */
export function countSentences(text: string): number {
  return splitSentencesPunkt(text).length;
}

const CONTRACTION = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/iu;

/**
 * An approximation of `nltk.word_tokenize` good enough to count all-capital words: whitespace split, leading and
 * trailing punctuation split off, English contractions split (`DON'T` -> `DO`, `N'T`); hyphenated words and
 * dotted acronyms stay one token.
 */
export function wordTokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const chunk of text.split(/\s+/u)) {
    if (!chunk) continue;
    const match = chunk.match(/^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}.]*)$/su);
    const leading = match?.[1] ?? '';
    let core = match?.[2] ?? chunk;
    const trailing = match?.[3] ?? '';
    for (const character of leading) tokens.push(character);
    // A final period is split off unless the token is an acronym like U.S.
    let finalPeriod = false;
    if (core.endsWith('.') && !/^(\p{L}\.)+$/u.test(core)) {
      core = core.replace(/\.+$/u, '');
      finalPeriod = true;
    }
    const contraction = core.match(CONTRACTION);
    if (contraction?.[1] && contraction[2]) tokens.push(contraction[1], contraction[2]);
    else if (core) tokens.push(core);
    if (finalPeriod) tokens.push('.');
    for (const character of trailing) tokens.push(character);
  }
  return tokens;
}
