import { describe, expect, it } from 'vitest';
import { detectLanguage, detectLanguages } from './language-detector.js';
import {
  compilePythonPattern,
  countSentences,
  countWords,
  isLower,
  isUpper,
  splitSentencesPunkt,
  wordTokenize,
} from './text-utilities.js';

describe('text utilities with the reference semantics', () => {
  it('counts \\w+ runs over Unicode letters and digits, not combining marks', () => {
    expect(countWords("It's a well-known fact: 3.14 is π.")).toBe(10);
    expect(countWords('')).toBe(0);
    // Python's re splits at the virama and vowel sign (combining marks are not \w).
    expect(countWords('नमस्ते')).toBe(2);
  });

  it('splits sentences like punkt on ordinary prose', () => {
    expect(splitSentencesPunkt('Hello world. This is Mr. Smith! Is it 3.5 p.m. now? Yes.')).toEqual([
      'Hello world.',
      'This is Mr. Smith!',
      'Is it 3.5 p.m. now?',
      'Yes.',
    ]);
    expect(countSentences('No punctuation\nacross lines')).toBe(1);
    expect(countSentences('He said "stop." Then left.')).toBe(2);
    expect(countSentences('J. R. R. Tolkien wrote books. Wait... what? ok')).toBe(3);
    expect(countSentences('')).toBe(0);
  });

  it('tokenizes words for capital counting like nltk.word_tokenize', () => {
    expect(wordTokenize("I DON'T know, U.S. ASAP.")).toEqual([
      'I',
      'DO',
      "N'T",
      'know',
      ',',
      'U.S.',
      'ASAP',
      '.',
    ]);
    expect(wordTokenize('well-known (PARENS)')).toEqual(['well-known', '(', 'PARENS', ')']);
  });

  it('implements str.isupper and str.islower', () => {
    expect(isUpper('HELLO, WORLD 42')).toBe(true);
    expect(isUpper('123 !!')).toBe(false);
    expect(isUpper('ÉCOLE')).toBe(true);
    expect(isLower('école 42')).toBe(true);
    expect(isLower('Ǆ')).toBe(false);
  });

  it('makes \\b Unicode-aware and falls back to a literal for invalid patterns', () => {
    expect(compilePythonPattern('\\bnaïve\\b', 'i').test('A NAÏVE plan')).toBe(true);
    expect(compilePythonPattern('\\bnaïve\\b', 'i').test('naïveté')).toBe(false);
    expect(compilePythonPattern('c++(', 'i').test('I like C++( a lot')).toBe(true);
  });
});

describe('language detector (langdetect algorithm and profiles)', { timeout: 30_000 }, () => {
  it.each([
    ['en', 'The committee will meet again next week to discuss the budget and the new building.'],
    ['de', 'Die Kommission wird sich nächste Woche erneut treffen, um den Haushalt zu besprechen.'],
    ['pt', 'A comissão vai reunir-se novamente na próxima semana para discutir o orçamento.'],
    ['mr', 'महाराष्ट्र हे भारतातील एक राज्य आहे. मुंबई ही महाराष्ट्राची राजधानी आहे.'],
    ['ne', 'नेपाल एक सुन्दर देश हो। यहाँ धेरै हिमालहरू छन् र मानिसहरू मिलनसार छन्।'],
    ['ko', '안녕하세요. 오늘 날씨가 정말 좋네요. 우리는 공원에 산책하러 갑니다.'],
    ['ja', 'これは日本語の文章です。東京は大きな都市です。'],
    ['zh-cn', '我们今天去公园散步，天气很好。'],
    ['sw', 'Habari yako? Mimi ni mwanafunzi na ninapenda kusoma vitabu vingi sana kila siku.'],
  ])('detects %s', (language, text) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('is deterministic for a seed and reports undetectable text as undefined', () => {
    const mixed = 'Hello there, wie geht es dir heute? Very well, danke schön.';
    expect(detectLanguages(mixed, 7)).toEqual(detectLanguages(mixed, 7));
    expect(detectLanguage('12345 !!! ---')).toBeUndefined();
    expect(detectLanguage('')).toBeUndefined();
  });
});
