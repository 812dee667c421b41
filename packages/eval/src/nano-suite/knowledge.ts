import { Random } from './random.js';

/**
 * The nano-suite's fixed synthetic world: invented substances (science), invented diseases (medicine),
 * everyday events with typical durations (time) and the vocabulary of the passage tasks. The pretraining
 * corpus states these facts; the knowledge tasks ask about them. The world is fixed (its own constant
 * seed), so every run and every model sees the same facts.
 */

const WORLD_SEED = 20_250_701;

const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'tr', 'gl', 'pl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];

function inventNames(random: Random, count: number, suffix: string, taken: Set<string>): string[] {
  const names: string[] = [];
  while (names.length < count) {
    const name = `${random.pick(ONSETS)}${random.pick(VOWELS)}${random.pick(ONSETS)}${suffix}`;
    if (!taken.has(name)) {
      taken.add(name);
      names.push(name);
    }
  }
  return names;
}

/** A science fact sheet: one invented substance and three properties. */
export interface Substance {
  name: string;
  color: string;
  kind: string;
  place: string;
}

/** A medical fact sheet: one invented disease, its symptom, its drug and the organ it affects. */
export interface Disease {
  name: string;
  symptom: string;
  drug: string;
  organ: string;
}

/** An everyday event and the unit its duration is naturally measured in. */
export interface TimedEvent {
  /** Past-tense clause without a subject: "brushed the teeth". */
  clause: string;
  unit: 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
}

export const SUBSTANCE_COLORS = [
  'blue',
  'red',
  'green',
  'gray',
  'white',
  'black',
  'yellow',
  'purple',
] as const;
export const SUBSTANCE_KINDS = ['metal', 'gas', 'crystal', 'liquid', 'salt', 'acid'] as const;
export const SUBSTANCE_PLACES = ['caves', 'oceans', 'volcanoes', 'deserts', 'forests', 'glaciers'] as const;
export const SYMPTOMS = [
  'fever',
  'cough',
  'rash',
  'headache',
  'nausea',
  'fatigue',
  'chills',
  'dizziness',
] as const;
export const ORGANS = ['liver', 'lungs', 'heart', 'kidneys', 'skin', 'brain', 'stomach', 'eyes'] as const;
export const DURATION_UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years'] as const;

/** Number of invented substances and diseases; each has three facts. */
export const SUBSTANCE_COUNT = 24;
export const DISEASE_COUNT = 24;
const DRUG_COUNT = 12;

function buildWorld() {
  const random = new Random(WORLD_SEED);
  const taken = new Set<string>();
  const substanceNames = inventNames(random, SUBSTANCE_COUNT, 'ium', taken);
  const diseaseNames = inventNames(random, DISEASE_COUNT, 'osis', taken);
  const drugNames = inventNames(random, DRUG_COUNT, 'mine', taken);
  const substances: Substance[] = substanceNames.map((name) => ({
    name,
    color: random.pick(SUBSTANCE_COLORS),
    kind: random.pick(SUBSTANCE_KINDS),
    place: random.pick(SUBSTANCE_PLACES),
  }));
  const diseases: Disease[] = diseaseNames.map((name) => ({
    name,
    symptom: random.pick(SYMPTOMS),
    drug: random.pick(drugNames),
    organ: random.pick(ORGANS),
  }));
  return { substances, diseases, drugs: drugNames };
}

const world = buildWorld();

/** The science knowledge base (GPQA analogue). */
export const substances: readonly Substance[] = world.substances;
/** The medical knowledge base (HeadQA analogue). */
export const diseases: readonly Disease[] = world.diseases;
/** Every invented drug name. */
export const drugs: readonly string[] = world.drugs;

/** Events and their natural duration units (MC-TACO analogue). */
export const timedEvents: readonly TimedEvent[] = [
  { clause: 'blinked', unit: 'seconds' },
  { clause: 'sneezed', unit: 'seconds' },
  { clause: 'clapped once', unit: 'seconds' },
  { clause: 'opened the door', unit: 'seconds' },
  { clause: 'brushed the teeth', unit: 'minutes' },
  { clause: 'took a shower', unit: 'minutes' },
  { clause: 'boiled an egg', unit: 'minutes' },
  { clause: 'read a short poem', unit: 'minutes' },
  { clause: 'watched a movie', unit: 'hours' },
  { clause: 'slept at night', unit: 'hours' },
  { clause: 'drove to the next city', unit: 'hours' },
  { clause: 'painted a wall', unit: 'hours' },
  { clause: 'had the flu', unit: 'days' },
  { clause: 'went camping', unit: 'days' },
  { clause: 'painted the house', unit: 'days' },
  { clause: 'visited the grandparents', unit: 'days' },
  { clause: 'went on a long vacation', unit: 'weeks' },
  { clause: 'healed a broken arm', unit: 'weeks' },
  { clause: 'trained for a race', unit: 'weeks' },
  { clause: 'grew tomatoes', unit: 'months' },
  { clause: 'built a house', unit: 'months' },
  { clause: 'was pregnant', unit: 'months' },
  { clause: 'studied medicine', unit: 'years' },
  { clause: 'lived abroad', unit: 'years' },
  { clause: 'raised a child', unit: 'years' },
];

/** Vocabulary of the passage tasks (CoQA, HaluEval analogues). */
export const PEOPLE = [
  'Mia',
  'Tom',
  'Ana',
  'Ben',
  'Eva',
  'Leo',
  'Zoe',
  'Sam',
  'Ivy',
  'Max',
  'Lea',
  'Noah',
  'Ada',
  'Hugo',
  'Nina',
  'Omar',
] as const;
export const CITIES = [
  'Oslo',
  'Lima',
  'Rome',
  'Cairo',
  'Paris',
  'Tokyo',
  'Quito',
  'Dublin',
  'Madrid',
  'Seoul',
] as const;
export const JOBS = [
  'baker',
  'doctor',
  'pilot',
  'farmer',
  'teacher',
  'singer',
  'nurse',
  'judge',
  'chef',
  'tailor',
] as const;
export const PETS = ['cat', 'dog', 'horse', 'parrot', 'rabbit', 'goat', 'turtle', 'fish'] as const;
export const COLORS = ['red', 'blue', 'green', 'black', 'white', 'brown', 'pink', 'gray'] as const;
export const FOODS = ['apples', 'rice', 'soup', 'bread', 'cheese', 'plums', 'beans', 'fish'] as const;

/** A science fact keyed the way questions and answers name it: `The color of nokium is gray.` */
export function substanceFact(substance: Substance, aspect: SubstanceAspect): string {
  return `The ${aspect} of ${substance.name} is ${substance[aspect]}.`;
}

/** A medical fact keyed the way questions name it: `The drug for fabosis is tumine.` */
export function diseaseFact(disease: Disease, aspect: DiseaseAspect): string {
  return `The ${aspect} ${aspect === 'drug' ? 'for' : 'of'} ${disease.name} is ${disease[aspect]}.`;
}

export type SubstanceAspect = 'color' | 'kind' | 'place';
export type DiseaseAspect = 'drug' | 'symptom' | 'organ';
export const SUBSTANCE_ASPECTS: readonly SubstanceAspect[] = ['color', 'kind', 'place'];
export const DISEASE_ASPECTS: readonly DiseaseAspect[] = ['drug', 'symptom', 'organ'];

/**
 * Plain-text statements of every knowledge-base fact, for the pretraining corpus: each substance and
 * disease once as a sentence, then each fact keyed by its aspect (`The color of nokium is gray.`), the form
 * the knowledge tasks' questions name.
 */
export function knowledgeStatements(): string[] {
  const lines: string[] = [];
  for (const substance of substances) {
    lines.push(
      `${capitalize(substance.name)} is a ${substance.color} ${substance.kind} found in ${substance.place}.`,
    );
    for (const aspect of SUBSTANCE_ASPECTS) lines.push(substanceFact(substance, aspect));
  }
  for (const disease of diseases) {
    lines.push(
      `${capitalize(disease.name)} affects the ${disease.organ}, causes ${disease.symptom} and is treated with ${disease.drug}.`,
    );
    for (const aspect of DISEASE_ASPECTS) lines.push(diseaseFact(disease, aspect));
  }
  for (const event of timedEvents) lines.push(`Someone who ${event.clause} spent a few ${event.unit} on it.`);
  return lines;
}

export function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}
