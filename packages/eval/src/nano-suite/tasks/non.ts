import type { BenchmarkItem, Verdict } from '@xfer/core';
import type { GenerativeScorer } from '../../scorers/types.js';
import {
  CITIES,
  COLORS,
  DURATION_UNITS,
  FOODS,
  JOBS,
  PEOPLE,
  PETS,
  type TimedEvent,
  timedEvents,
} from '../knowledge.js';
import type { Random } from '../random.js';
import { extractiveAnswerScorer, yesNoScorer } from '../scorers.js';
import type { NanoTask } from '../types.js';
import { firstAnswerLine } from '../verify.js';
import { storedPrompt } from './shared.js';

const RELATIONS = ['city', 'pet', 'job', 'food'] as const;
type Relation = (typeof RELATIONS)[number];

interface Statement {
  person: string;
  relation: Relation;
  value: string;
}

function sentence(statement: Statement): string {
  switch (statement.relation) {
    case 'city':
      return `${statement.person} lives in ${statement.value}.`;
    case 'pet':
      return `${statement.person} has ${statement.value}.`;
    case 'job':
      return `${statement.person} works as a ${statement.value}.`;
    case 'food':
      return `${statement.person} likes ${statement.value}.`;
  }
}

function question(statement: Statement): string {
  switch (statement.relation) {
    case 'city':
      return `Where does ${statement.person} live?`;
    case 'pet':
      return `What pet does ${statement.person} have?`;
    case 'job':
      return `What is the job of ${statement.person}?`;
    case 'food':
      return `What does ${statement.person} like?`;
  }
}

function randomValue(random: Random, relation: Relation): string {
  switch (relation) {
    case 'city':
      return random.pick(CITIES);
    case 'pet':
      return `a ${random.pick(COLORS)} ${random.pick(PETS)}`;
    case 'job':
      return random.pick(JOBS);
    case 'food':
      return random.pick(FOODS);
  }
}

/** Whether `value` is one a statement of `relation` can hold (cities, pets, jobs and foods never overlap). */
function isValueOf(value: string, relation: Relation): boolean {
  switch (relation) {
    case 'city':
      return (CITIES as readonly string[]).includes(value);
    case 'pet':
      return value.startsWith('a ');
    case 'job':
      return (JOBS as readonly string[]).includes(value);
    case 'food':
      return (FOODS as readonly string[]).includes(value);
  }
}

/** A passage of two or three statements about different people. */
function passage(random: Random): Statement[] {
  const people = random.sample(PEOPLE, random.int(2, 3));
  return people.map((person) => {
    const relation = random.pick(RELATIONS);
    return { person, relation, value: randomValue(random, relation) };
  });
}

/** CoQA analogue: extractive questions over a short generated passage. */
export const nanoPassage: NanoTask = {
  id: 'nano-passage',
  group: 'non',
  mirrors: 'coqa',
  skill: 'reading a passage and copying the answer span',
  promptTemplate: '{two or three sentences}\n\nQ: {question}\n\nA:',
  metric: 'exact match (SQuAD normalisation) of the first line after any reasoning; F1 in details (greedy)',
  kind: 'generative',
  chance: 0,
  maxTokens: 24,
  draft(random) {
    const statements = passage(random);
    const asked = random.pick(statements);
    const text = statements.map(sentence).join(' ');
    const prompt = `${text}\n\nQ: ${question(asked)}\n\nA:`;
    return { key: prompt, input: { prompt, passage: text, question: question(asked) }, target: asked.value };
  },
  prompt: storedPrompt,
  answer: (item) => String(item.target),
  scorer: extractiveAnswerScorer('nano-extractive'),
};

/** What a question asks for, and what a value is: the type words of the base's support answers. */
const RELATION_TYPES: Record<Relation, string> = {
  city: 'a place',
  pet: 'a pet',
  job: 'a job',
  food: 'a food',
};

/**
 * HaluEval analogue: is a candidate answer supported by the passage? Unsupported candidates are, as
 * HaluEval's hallucinated answers are, of three kinds: an answer of the wrong type (it misunderstands the
 * question), a value the passage never states, and another person's value from the passage.
 */
export const nanoSupport: NanoTask = {
  id: 'nano-support',
  group: 'non',
  mirrors: 'halueval',
  skill: 'judging whether an answer is supported by a passage',
  promptTemplate:
    'Passage: {two or three sentences}\nQuestion: {question}\nAnswer: {candidate}\nIs the answer supported? Yes or No.',
  metric: 'accuracy: the first line holds exactly one of Yes/No and it equals the label (greedy)',
  kind: 'generative',
  chance: 0.5,
  maxTokens: 64,
  draft(random) {
    const statements = passage(random);
    const asked = random.pick(statements);
    const supported = random.chance(0.5);
    let candidate = asked.value;
    let relation: Relation = asked.relation;
    let kind = 'supported';
    if (!supported) {
      const roll = random.next();
      if (roll < 0.5) {
        kind = 'wrong-type';
        relation = random.pick(RELATIONS.filter((candidateRelation) => candidateRelation !== asked.relation));
        candidate = randomValue(random, relation);
      } else if (roll < 0.75) {
        // Another person's value for the same question: make one of the others state such a value.
        kind = 'other-person';
        const other = random.pick(statements.filter((statement) => statement !== asked));
        other.relation = asked.relation;
        while (other.value === asked.value || !isValueOf(other.value, other.relation))
          other.value = randomValue(random, asked.relation);
        candidate = other.value;
      } else {
        const stated = new Set(statements.map((statement) => statement.value));
        kind = 'unstated';
        while (stated.has(candidate)) candidate = randomValue(random, asked.relation);
      }
    }
    const text = statements.map(sentence).join(' ');
    const prompt = `Passage: ${text}\nQuestion: ${question(asked)}\nAnswer: ${candidate}\nIs the answer supported? Yes or No.`;
    return {
      key: prompt,
      input: {
        prompt,
        passage: text,
        question: question(asked),
        candidate,
        asked: RELATION_TYPES[asked.relation],
        given: RELATION_TYPES[relation],
        kind,
      },
      target: supported ? 'Yes' : 'No',
    };
  },
  prompt: storedPrompt,
  // The base names what the question asks for and what the answer gives, then judges
  // (`Asked: a place. Given: a pet. No.`).
  answer: (item) =>
    `Asked: ${String(item.input.asked)}. Given: ${String(item.input.given)}. ${String(item.target)}.`,
  scorer: yesNoScorer('nano-yes-no'),
};

const WORDS = [
  'cat',
  'sun',
  'tree',
  'book',
  'milk',
  'rain',
  'star',
  'fish',
  'road',
  'moon',
  'bird',
  'lamp',
] as const;

type Instruction =
  | { kind: 'repeat'; word: string; times: number }
  | { kind: 'upper'; words: string[] }
  | { kind: 'quote'; word: string }
  | { kind: 'commas'; words: string[] }
  | { kind: 'sorted'; words: string[] }
  | { kind: 'count'; n: number; topics: string[]; words: string[] }
  | { kind: 'capitalCount'; n: number; topics: string[]; words: string[] };

function instructionText(instruction: Instruction): string {
  switch (instruction.kind) {
    case 'repeat':
      return `Write the word ${instruction.word} exactly ${instruction.times} times, separated by spaces.`;
    case 'upper':
      return `Write "${instruction.words.join(' ')}" in capital letters.`;
    case 'quote':
      return `Write the word ${instruction.word} wrapped in double quotes.`;
    case 'commas':
      return `List the words ${instruction.words.join(' ')} separated by commas.`;
    case 'sorted':
      return `Write the words ${instruction.words.join(' ')} in alphabetical order.`;
    case 'count':
      return `Write exactly ${instruction.n} words about ${instruction.topics.join(' and ')}.`;
    case 'capitalCount':
      return `Write exactly ${instruction.n} words about ${instruction.topics.join(' and ')}, in capital letters.`;
  }
}

/** A compliant response: what the corpus teaches. */
function compliantResponse(instruction: Instruction): string {
  switch (instruction.kind) {
    case 'repeat':
      return Array.from({ length: instruction.times }, () => instruction.word).join(' ');
    case 'upper':
      return instruction.words.join(' ').toUpperCase();
    case 'quote':
      return `"${instruction.word}"`;
    case 'commas':
      return instruction.words.join(', ');
    case 'sorted':
      return [...instruction.words].sort().join(' ');
    case 'count':
      return instruction.words.join(' ');
    case 'capitalCount':
      return instruction.words.join(' ').toUpperCase();
  }
}

/** IFEval-style checker: does the response's first line follow the instruction (strict)? */
export function followsInstruction(instruction: Instruction, response: string): boolean {
  const line = response.trim();
  switch (instruction.kind) {
    case 'repeat': {
      const words = line.split(/\s+/);
      return words.length === instruction.times && words.every((word) => word === instruction.word);
    }
    case 'upper':
      return (
        line === line.toUpperCase() && line.replace(/\s+/g, ' ') === instruction.words.join(' ').toUpperCase()
      );
    case 'quote':
      return line === `"${instruction.word}"`;
    case 'commas': {
      const parts = line.split(',').map((part) => part.trim());
      return line.includes(',') && parts.join(' ') === instruction.words.join(' ');
    }
    case 'sorted': {
      const words = line.split(/\s+/);
      const expected = [...instruction.words].sort();
      return words.length === expected.length && words.every((word, index) => word === expected[index]);
    }
    // Any words count, as IFEval's length constraints count any words; the case is checked.
    case 'count': {
      const words = line.split(/\s+/);
      return words.length === instruction.n && words.every((word) => /^[a-z]+$/.test(word));
    }
    case 'capitalCount': {
      const words = line.split(/\s+/);
      return words.length === instruction.n && words.every((word) => /^[A-Z]+$/.test(word));
    }
  }
}

const instructionScorer: GenerativeScorer = {
  kind: 'generative',
  name: 'nano-instruction',
  version: '1',
  score({ item, completion }): Verdict {
    const instruction = item.input.instruction as Instruction;
    const line = firstAnswerLine(completion);
    const correct = followsInstruction(instruction, line);
    return {
      grader: 'nano-instruction',
      graderVersion: '1',
      extracted: line,
      correct,
      score: correct ? 1 : 0,
      details: { kind: instruction.kind },
    };
  },
};

/** A level-1 format instruction: a number of any words on two topics, in capitals or not. */
function countInstruction(random: Random): Instruction {
  const kind = random.pick(['count', 'capitalCount'] as const);
  const n = random.int(2, 5);
  return { kind, n, topics: random.sample(WORDS, 2), words: random.sample(WORDS, n) };
}

/** A level-2 format instruction: what to do with the words it gives. */
function givenWordsInstruction(random: Random): Instruction {
  const kind = random.pick(['repeat', 'upper', 'quote', 'commas', 'sorted'] as const);
  return kind === 'repeat'
    ? { kind, word: random.pick(WORDS), times: random.int(2, 5) }
    : kind === 'quote'
      ? { kind, word: random.pick(WORDS) }
      : { kind, words: random.sample(WORDS, random.int(2, 4)) };
}

/** IFEval analogue: verifiable formatting instructions. */
export const nanoFormat: NanoTask = {
  id: 'nano-format',
  group: 'non',
  mirrors: 'ifeval',
  skill: 'following a verifiable formatting instruction',
  promptTemplate:
    'level 1: write exactly n words about two topics (in capital letters or not); level 2: repeat a word n times / capital letters / double quotes / comma list / alphabetical order',
  metric:
    'prompt-level strict accuracy: a checker per instruction kind on the first line after any reasoning (greedy)',
  kind: 'generative',
  chance: 0,
  maxTokens: 40,
  draft(random) {
    // Level 1 asks for a number of words on two topics, any words (no copying); level 2 for the words given.
    const level = random.int(1, 2);
    const instruction = level === 1 ? countInstruction(random) : givenWordsInstruction(random);
    const prompt = instructionText(instruction);
    return {
      key: prompt,
      input: { prompt, instruction },
      target: compliantResponse(instruction),
      meta: { level },
    };
  },
  prompt: storedPrompt,
  answer: (item: BenchmarkItem) => String(item.target),
  scorer: instructionScorer,
};

type DurationUnit = (typeof DURATION_UNITS)[number];

/** The longer of two units: what a span holding both events is measured in. */
function longerUnit(first: DurationUnit, second: DurationUnit): DurationUnit {
  return DURATION_UNITS.indexOf(first) >= DURATION_UNITS.indexOf(second) ? first : second;
}

/** Two events with different units, in either order. */
function twoEvents(random: Random): [TimedEvent, TimedEvent] {
  const first = random.pick(timedEvents);
  const second = random.pick(timedEvents.filter((event) => event.unit !== first.unit));
  return [first, second];
}

/**
 * MC-TACO analogue: is a stated duration plausible? Level 1 asks about one everyday event (implausible
 * durations are three or more units off its own); level 2 about two events done one after the other, whose
 * whole takes the longer event's unit (the implausible duration is the shorter event's unit). The base recalls
 * each event's unit and the one the whole takes, then judges (`It takes minutes. No.`, `It takes minutes,
 * then hours: hours. No.`).
 */
export const nanoTemporal: NanoTask = {
  id: 'nano-temporal',
  group: 'non',
  mirrors: 'mc-taco',
  skill: 'temporal commonsense about event durations',
  promptTemplate:
    '{person} {event}[, then {event 2}].\nQuestion: How long did it take?\nAnswer: {n} {unit}\nIs the answer plausible? Yes or No.',
  metric:
    "accuracy of the Yes/No on the first line after any reasoning (greedy); implausible durations are 3+ units off at level 1 and the shorter event's unit at level 2",
  kind: 'generative',
  chance: 0.5,
  maxTokens: 56,
  draft(random) {
    const level = random.int(1, 2);
    const events = level === 1 ? [random.pick(timedEvents)] : twoEvents(random);
    const units = events.map((event) => event.unit);
    const whole = units.reduce(longerUnit);
    const plausible = random.chance(0.5);
    const wholeIndex = DURATION_UNITS.indexOf(whole);
    const unit = plausible
      ? whole
      : level === 1
        ? random.pick(DURATION_UNITS.filter((_, index) => Math.abs(index - wholeIndex) >= 3))
        : units.find((candidate) => candidate !== whole)!;
    const amount = random.int(2, 59);
    const person = random.pick(PEOPLE);
    const clauses = events.map((event) => event.clause).join(', then ');
    const prompt = `${person} ${clauses}.\nQuestion: How long did it take?\nAnswer: ${amount} ${unit}\nIs the answer plausible? Yes or No.`;
    return {
      key: prompt,
      input: {
        prompt,
        events: events.map((event) => event.clause),
        units,
        whole,
        duration: `${amount} ${unit}`,
      },
      target: plausible ? 'Yes' : 'No',
      meta: { level },
    };
  },
  prompt: storedPrompt,
  answer: (item) => {
    const units = item.input.units as string[];
    const reasoning = units.length > 1 ? `${units.join(', then ')}: ` : '';
    return `It takes ${reasoning}${String(item.input.whole)}. ${String(item.target)}.`;
  },
  scorer: yesNoScorer('nano-yes-no'),
};

export const nonTasks: readonly NanoTask[] = [nanoPassage, nanoFormat, nanoSupport, nanoTemporal];
