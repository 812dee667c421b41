import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { buildInstruction, type InstructionId, instructionIds } from './instructions.js';

interface Case {
  id: InstructionId;
  kwargs: Record<string, unknown>;
  prompt?: string;
  pass: string;
  fail: string;
}

const cases: Case[] = [
  {
    id: 'keywords:existence',
    kwargs: { keywords: ['mountain', 'river'] },
    pass: 'The River runs past the MOUNTAIN.',
    fail: 'The river runs past the hill.',
  },
  {
    id: 'keywords:frequency',
    kwargs: { keyword: 'tea', frequency: 3, relation: 'at least' },
    pass: 'Tea, tea and more TEA.',
    fail: 'Tea and tea.',
  },
  {
    id: 'keywords:frequency',
    kwargs: { keyword: 'tea', frequency: 2, relation: 'less than' },
    pass: 'One cup of tea.',
    fail: 'Tea and tea.',
  },
  {
    id: 'keywords:forbidden_words',
    kwargs: { forbidden_words: ['cat', 'dog'] },
    pass: 'Concatenate the catalogue of dogma.',
    fail: 'My Cat sleeps.',
  },
  {
    id: 'keywords:letter_frequency',
    kwargs: { letter: 'q', let_frequency: 2, let_relation: 'at least' },
    pass: 'Quick quiet quail.',
    fail: 'A quiet morning.',
  },
  {
    id: 'keywords:letter_frequency',
    kwargs: { letter: 'z', let_frequency: 1, let_relation: 'less than' },
    pass: 'No such letter here.',
    fail: 'A zebra.',
  },
  {
    id: 'language:response_language',
    kwargs: { language: 'de' },
    pass: 'Ich habe heute keine Zeit, weil ich arbeiten muss. Morgen gehen wir zusammen ins Kino.',
    fail: 'I have no time today because I have to work. Tomorrow we will go to the cinema together.',
  },
  {
    id: 'language:response_language',
    kwargs: { language: 'hi' },
    pass: 'भारत एक विशाल देश है जिसकी संस्कृति बहुत पुरानी है। यहाँ कई भाषाएँ बोली जाती हैं।',
    fail: 'India is a vast country with a very old culture. Many languages are spoken here.',
  },
  {
    id: 'length_constraints:number_sentences',
    kwargs: { num_sentences: 3, relation: 'less than' },
    pass: 'Dr. Smith arrived at 3.30 p.m. today. He left soon after.',
    fail: 'One. Two! Three? Four.',
  },
  {
    id: 'length_constraints:number_sentences',
    kwargs: { num_sentences: 3, relation: 'at least' },
    pass: 'It rained. We stayed in! Did you?',
    fail: 'It rained\nand we stayed in\nall day.',
  },
  {
    id: 'length_constraints:number_paragraphs',
    kwargs: { num_paragraphs: 3 },
    pass: 'First part.\n***\nSecond part.\n***\nThird part.\n***',
    fail: 'First part.\n***\n***\nThird part.',
  },
  {
    id: 'length_constraints:number_words',
    kwargs: { num_words: 5, relation: 'at least' },
    pass: "It's a well-known fact, isn't it?",
    fail: 'Too short, sadly.',
  },
  {
    id: 'length_constraints:number_words',
    kwargs: { num_words: 4, relation: 'less than' },
    pass: 'Just three words',
    fail: 'These are four words',
  },
  {
    id: 'length_constraints:nth_paragraph_first_word',
    kwargs: { num_paragraphs: 3, nth_paragraph: 2, first_word: 'However' },
    pass: 'Intro text.\n\n"However," she said, it works.\n\nThe end.',
    fail: 'Intro text.\n\nBut it works.\n\nThe end.',
  },
  {
    id: 'detectable_content:number_placeholders',
    kwargs: { num_placeholders: 2 },
    pass: 'Dear [name], meet me at [address].',
    fail: 'Dear [name], meet me at the station.',
  },
  {
    id: 'detectable_content:postscript',
    kwargs: { postscript_marker: 'P.S.' },
    pass: 'Thanks for reading.\n\np.s. Bring snacks.',
    fail: 'Thanks for reading. PS bring snacks.',
  },
  {
    id: 'detectable_content:postscript',
    kwargs: { postscript_marker: 'P.P.S' },
    pass: 'Bye.\nP. P. S. One more thing.',
    fail: 'Bye.\nP.S. One more thing.',
  },
  {
    id: 'detectable_format:number_bullet_lists',
    kwargs: { num_bullets: 3 },
    pass: 'List:\n* one\n* two\n- three',
    fail: 'List:\n* one\n* two\n**bold line**',
  },
  {
    id: 'detectable_format:constrained_response',
    kwargs: {},
    pass: '  After some thought: My answer is maybe. ',
    fail: 'My answer is: yes.',
  },
  {
    id: 'detectable_format:number_highlighted_sections',
    kwargs: { num_highlights: 2 },
    pass: 'This is *important* and **also this**.',
    fail: 'Only *one* highlight and an empty ** pair.',
  },
  {
    id: 'detectable_format:multiple_sections',
    kwargs: { section_spliter: 'SECTION', num_sections: 2 },
    pass: 'SECTION 1\nIntro\nSECTION 2\nBody',
    fail: 'Section 1\nIntro\nSection 2\nBody',
  },
  {
    id: 'detectable_format:json_format',
    kwargs: {},
    pass: '```json\n{"name": "xfer", "values": [1, 2]}\n```',
    fail: 'Here is the JSON: {"name": "xfer"}',
  },
  {
    id: 'detectable_format:title',
    kwargs: {},
    pass: '<<Poem of Joy>>\nRoses are red.',
    fail: '<<   >>\nRoses are red.',
  },
  {
    id: 'combination:two_responses',
    kwargs: {},
    pass: 'Answer one.\n******\nAnswer two.',
    fail: 'Same answer.\n******\nSame answer.',
  },
  {
    id: 'combination:repeat_prompt',
    kwargs: { prompt_to_repeat: 'Write a haiku about rain.' },
    pass: 'write a haiku about rain. Drops fall on the roof...',
    fail: 'Here is a haiku about rain: drops fall.',
  },
  {
    id: 'startend:end_checker',
    kwargs: { end_phrase: 'Any other questions?' },
    pass: 'That is all.\nany other questions?"',
    fail: 'Any other questions? Thanks.',
  },
  {
    id: 'startend:quotation',
    kwargs: {},
    pass: '  "Wrapped in quotes."  ',
    fail: '"Not closed.',
  },
  {
    id: 'change_case:capital_word_frequency',
    kwargs: { capital_frequency: 3, capital_relation: 'at least' },
    pass: "I DON'T know, ASAP please.",
    fail: 'Only ONE capital word here, honestly.',
  },
  {
    id: 'change_case:capital_word_frequency',
    kwargs: { capital_frequency: 2, capital_relation: 'less than' },
    pass: 'Only ONE loud word.',
    fail: 'TWO LOUD words.',
  },
  {
    id: 'change_case:english_capital',
    kwargs: {},
    pass: 'THIS IS AN ENTIRELY UPPERCASE ENGLISH RESPONSE ABOUT THE WEATHER TODAY.',
    fail: 'THIS IS AN ENTIRELY UPPERCASE ENGLISH RESPONSE, except this.',
  },
  {
    id: 'change_case:english_lowercase',
    kwargs: {},
    pass: 'this is an entirely lowercase english response about the weather today.',
    fail: 'this is lowercase except for One word.',
  },
  {
    id: 'change_case:english_lowercase',
    kwargs: {},
    pass: 'the weather today is lovely and the garden is full of flowers and birds.',
    fail: 'el tiempo hoy es muy agradable y el jardín está lleno de flores y pájaros.',
  },
  {
    id: 'punctuation:no_comma',
    kwargs: {},
    pass: 'No commas at all here.',
    fail: 'One, comma.',
  },
];

describe('IFEval instruction checkers', { timeout: 30_000 }, () => {
  it('covers all 25 instruction ids of the reference registry', () => {
    expect(instructionIds).toHaveLength(25);
    expect(new Set(cases.map((entry) => entry.id))).toEqual(new Set(instructionIds));
  });

  for (const entry of cases) {
    it(`${entry.id} ${JSON.stringify(entry.kwargs)} passes and fails`, () => {
      const check = buildInstruction(entry.id, entry.kwargs, entry.prompt ?? 'prompt');
      expect(check(entry.pass)).toBe(true);
      expect(check(entry.fail)).toBe(false);
    });
  }

  it('drops falsy arguments as the reference does, then validates the rest with file, line and field', () => {
    expect(() =>
      buildInstruction('keywords:frequency', { keyword: 'x', frequency: 2, relation: 'about' }, 'p', {
        file: 'data.jsonl',
        line: 7,
        field: 'kwargs[1]',
      }),
    ).toThrowError(/data\.jsonl, line 7, field 'kwargs\[1\]\.relation'/);
    const check = buildInstruction('punctuation:no_comma', { unused: null }, 'p');
    expect(check('fine')).toBe(true);
  });

  it('rejects an unknown instruction id with a ValidationError naming the field', () => {
    let caught: unknown;
    try {
      buildInstruction('keywords:key_sentences', {}, 'p', {
        file: 'f.jsonl',
        line: 3,
        instructionField: 'instruction_id_list[0]',
      });
    } catch (error) {
      caught = error;
    }
    expect(ValidationError.isInstance(caught)).toBe(true);
    expect((caught as ValidationError).field).toBe('instruction_id_list[0]');
    expect((caught as ValidationError).line).toBe(3);
  });

  it('counts undetectable language as followed, like the reference does on LangDetectException', () => {
    const check = buildInstruction('language:response_language', { language: 'ko' }, 'p');
    expect(check('12345 !!! ---')).toBe(true);
  });

  it('uses Unicode word boundaries for forbidden words', () => {
    const check = buildInstruction('keywords:forbidden_words', { forbidden_words: ['café'] }, 'p');
    expect(check('Un cafés noirs.')).toBe(true);
    expect(check('Un café noir.')).toBe(false);
  });
});
