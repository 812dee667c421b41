import { type ChatMessage, ValidationError } from '@xfer/core';
import { CITIES, diseases, drugs, JOBS, knowledgeStatements, PEOPLE, substances } from './knowledge.js';
import { Random } from './random.js';
import { nanoItems, nanoTasks, splitOfKey } from './suite.js';
import { mathWork, parseMathProblem, workedExample } from './teacher.js';
import type { NanoItemDraft, NanoTask } from './types.js';

/** Renders chat messages through a model's chat template (e.g. engine-nano's `renderChat`). */
export type ChatRenderer = (messages: readonly ChatMessage[], options: { enableThinking: boolean }) => string;

/** The end-of-turn marker a nano answer ends with in the corpus, so the model learns to stop. */
export const END_OF_TURN = '<|im_end|>';
/** Separator after a plain-text knowledge document. */
export const END_OF_TEXT = '<|endoftext|>';

/**
 * One pretraining document: the loss is taken on `completion` only; `prompt` is context (a knowledge
 * statement's prompt is the `<|endoftext|>` document separator, so its first token has something to follow).
 */
export interface NanoCorpusDocument {
  /** The task id, or `knowledge` for a knowledge-base statement. */
  source: string;
  prompt: string;
  completion: string;
}

export interface NanoCorpusOptions {
  /** Seed of the training-item draw and of the final shuffle. */
  seed: number;
  /** Training items per task (a number for all, or per task id). */
  itemsPerTask: number | Readonly<Record<string, number>>;
  /** How many times each knowledge-base statement appears. Defaults to 4. */
  knowledgeRepeats?: number;
  /**
   * Plain-text statements per task that has them (the math tasks: `47+38=85.`), drawn with repetition from
   * the training split: the worked examples a base model's pretraining text is full of, at ~10 tokens each
   * instead of ~60 for a chat-formatted item. A number for every such task, or per task id. Defaults to 0.
   */
  statementsPerTask?: number | Readonly<Record<string, number>>;
  /** Repeats of the arithmetic tables (`arithmeticFacts`). Defaults to 0. */
  factRepeats?: number;
  /**
   * Plain-text worked examples per math task (`workedExample`: the question, then the teacher's worked
   * solution), drawn from the training split. Defaults to 0.
   */
  workedPerTask?: number;
  /**
   * Share of the math tasks' chat items answered with the worked solution instead of the one-line result,
   * as some answers in real pretraining data show their work (default 0). A base that sometimes works a
   * problem out gives RL something to reinforce.
   */
  workedChatShare?: number;
  /**
   * Plain-text copy drills (`copyDrill`): a list of the world's names, then the same list again. Real
   * pretraining text repeats itself everywhere, which is what teaches a model to copy from its context;
   * the task items alone repeat too little for a small model to learn it. Defaults to 0.
   */
  copyDrills?: number;
  render: ChatRenderer;
}

/**
 * The base model's pretraining corpus: chat-formatted training items of all twelve tasks, answered in the
 * plain base style (no reasoning), plus the knowledge-base facts as plain text. Built only from training
 * splits, so no evaluation item is ever seen. Deterministic for a seed; documents come shuffled.
 */
export function buildNanoCorpus(options: NanoCorpusOptions): NanoCorpusDocument[] {
  const documents: NanoCorpusDocument[] = [];
  const workedShare = options.workedChatShare ?? 0;
  if (!(workedShare >= 0 && workedShare <= 1)) {
    throw new ValidationError({ field: 'workedChatShare', message: `must be in [0, 1], got ${workedShare}` });
  }
  const workedDraw = Random.derive(options.seed, 'worked-chat');
  for (const task of nanoTasks) {
    const count =
      typeof options.itemsPerTask === 'number' ? options.itemsPerTask : (options.itemsPerTask[task.id] ?? 0);
    if (count <= 0) continue;
    for (const item of nanoItems(task, { split: 'train', count, seed: options.seed, allowFewer: true })) {
      const prompt = options.render([{ role: 'user', content: task.prompt(item) }], {
        enableThinking: false,
      });
      const problem = task.group === 'math' ? parseMathProblem(task.prompt(item)) : null;
      const answer =
        problem && workedShare > 0 && workedDraw.chance(workedShare)
          ? `${mathWork(problem).work} The answer is \\boxed{${item.target}}.`
          : task.answer(item);
      documents.push({ source: task.id, prompt, completion: `${answer}${END_OF_TURN}` });
    }
  }
  for (const task of nanoTasks) {
    const perTask = options.statementsPerTask ?? 0;
    const count = typeof perTask === 'number' ? perTask : (perTask[task.id] ?? 0);
    if (count <= 0 || !task.statement) continue;
    for (const statement of nanoStatements(task, count, options.seed)) {
      documents.push({
        source: `${task.id}/text`,
        prompt: END_OF_TEXT,
        completion: `${statement}${END_OF_TEXT}`,
      });
    }
  }
  for (const task of nanoTasks) {
    if (!(options.workedPerTask && task.statement)) continue;
    for (const worked of nanoWorkedExamples(task, options.workedPerTask, options.seed)) {
      documents.push({
        source: `${task.id}/worked`,
        prompt: END_OF_TEXT,
        completion: `${worked}${END_OF_TEXT}`,
      });
    }
  }
  for (let round = 0; round < (options.factRepeats ?? 0); round++) {
    for (const fact of arithmeticFacts()) {
      documents.push({ source: 'facts', prompt: END_OF_TEXT, completion: `${fact}${END_OF_TEXT}` });
    }
  }
  const drillCount = options.copyDrills ?? 0;
  if (!(Number.isInteger(drillCount) && drillCount >= 0)) {
    throw new ValidationError({
      field: 'copyDrills',
      message: `must be a whole number ≥ 0, got ${drillCount}`,
    });
  }
  const drills = Random.derive(options.seed, 'copy-drills');
  for (let index = 0; index < drillCount; index++) {
    documents.push({ source: 'copy', prompt: END_OF_TEXT, completion: `${copyDrill(drills)}${END_OF_TEXT}` });
  }
  const repeats = options.knowledgeRepeats ?? 4;
  for (let round = 0; round < repeats; round++) {
    for (const statement of knowledgeStatements()) {
      documents.push({ source: 'knowledge', prompt: END_OF_TEXT, completion: `${statement}${END_OF_TEXT}` });
    }
  }
  return Random.derive(options.seed, 'corpus-order').shuffle(documents);
}

const DRILL_WORDS: readonly string[] = [
  ...substances.map((substance) => substance.name),
  ...diseases.map((disease) => disease.name),
  ...drugs,
  ...PEOPLE,
  ...CITIES,
  ...JOBS,
];

/** A copy drill: three to six of the world's names, then the same names again (`Copy: a b c. Again: a b c.`). */
export function copyDrill(random: Random): string {
  const words = random.sample(DRILL_WORDS, random.int(3, 6)).join(' ');
  return `Copy: ${words}. Again: ${words}.`;
}

/**
 * `count` drafts of a task's training split, drawn with repetition from the stream `${task.id}/${stream}`
 * of the seed; never an evaluation item, since the split is decided by content. `field` names the corpus
 * option in the error when the split is empty.
 */
function trainingDrafts(
  task: NanoTask,
  count: number,
  seed: number,
  stream: string,
  field: string,
): NanoItemDraft[] {
  const random = Random.derive(seed, `${task.id}/${stream}`);
  const drafts: NanoItemDraft[] = [];
  for (let draws = 0; drafts.length < count; draws++) {
    if (draws > count * 50) {
      throw new ValidationError({ field, message: `${task.id}: its training split is empty` });
    }
    const draft = task.draft(random);
    if (splitOfKey(task.id, draft.splitKey ?? draft.key) === 'train') drafts.push(draft);
  }
  return drafts;
}

/** `count` worked examples of a math task's training items (see `workedPerTask`), deterministic for a seed. */
export function nanoWorkedExamples(task: NanoTask, count: number, seed: number): string[] {
  return trainingDrafts(task, count, seed, 'worked', 'workedPerTask').map((draft) => {
    const problem = parseMathProblem(String(draft.input.prompt));
    if (!problem) {
      throw new ValidationError({
        field: 'workedPerTask',
        message: `${task.id} is not a math task the teacher parses`,
      });
    }
    return workedExample(problem);
  });
}

/**
 * `count` plain-text statements of a task's training items, drawn with repetition (like facts that recur in
 * real text); never an evaluation item, since the split is decided by content. Deterministic for a seed.
 */
export function nanoStatements(task: NanoTask, count: number, seed: number): string[] {
  const statement = task.statement;
  if (!statement) return [];
  return trainingDrafts(task, count, seed, 'statements', 'statementsPerTask').map((draft) =>
    statement({ id: draft.key, benchmark: task.id, input: draft.input, target: draft.target, meta: {} }),
  );
}

/**
 * The arithmetic tables a school child learns, as plain text: for every pair of digits x, y the sum, the sum
 * with a carry (`x+y+1`), the difference or the borrowed difference (`1x-y`), the same after lending one to
 * the place before (`x-1-y`, `1x-1-y`) and the product, exactly the steps of column arithmetic
 * (`compactColumn`); then the times table of 10..49 by 2..9 (`12*3=36.`) and the divisions it implies up to
 * a quotient of 15 (`36/3=12.`). No nano-suite evaluation item is a bare table fact, so they leak nothing.
 */
export function arithmeticFacts(): string[] {
  const facts: string[] = [];
  for (let x = 0; x <= 9; x++) {
    for (let y = 0; y <= 9; y++) {
      facts.push(`${x}+${y}=${x + y}.`, `${x}+${y}+1=${x + y + 1}.`, `${x}*${y}=${x * y}.`);
      facts.push(x >= y ? `${x}-${y}=${x - y}.` : `1${x}-${y}=${10 + x - y}.`);
      facts.push(x - 1 >= y ? `${x}-1-${y}=${x - 1 - y}.` : `1${x}-1-${y}=${10 + x - 1 - y}.`);
    }
  }
  for (let n = 10; n <= 49; n++) for (let m = 2; m <= 9; m++) facts.push(`${n}*${m}=${n * m}.`);
  for (let m = 2; m <= 9; m++) for (let q = 1; q <= 15; q++) facts.push(`${m * q}/${m}=${q}.`);
  return facts;
}
