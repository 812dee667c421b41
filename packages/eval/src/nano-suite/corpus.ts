import { type ChatMessage, ValidationError } from '@xfer/core';
import { knowledgeStatements } from './knowledge.js';
import { Random } from './random.js';
import { nanoItems, nanoTasks, splitOfKey } from './suite.js';
import type { NanoTask } from './types.js';

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
  render: ChatRenderer;
}

/**
 * The base model's pretraining corpus: chat-formatted training items of all twelve tasks, answered in the
 * plain base style (no reasoning), plus the knowledge-base facts as plain text. Built only from training
 * splits, so no evaluation item is ever seen. Deterministic for a seed; documents come shuffled.
 */
export function buildNanoCorpus(options: NanoCorpusOptions): NanoCorpusDocument[] {
  const documents: NanoCorpusDocument[] = [];
  for (const task of nanoTasks) {
    const count =
      typeof options.itemsPerTask === 'number' ? options.itemsPerTask : (options.itemsPerTask[task.id] ?? 0);
    if (count <= 0) continue;
    for (const item of nanoItems(task, { split: 'train', count, seed: options.seed, allowFewer: true })) {
      const prompt = options.render([{ role: 'user', content: task.prompt(item) }], {
        enableThinking: false,
      });
      documents.push({ source: task.id, prompt, completion: `${task.answer(item)}${END_OF_TURN}` });
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
  const repeats = options.knowledgeRepeats ?? 4;
  for (let round = 0; round < repeats; round++) {
    for (const statement of knowledgeStatements()) {
      documents.push({ source: 'knowledge', prompt: END_OF_TEXT, completion: `${statement}${END_OF_TEXT}` });
    }
  }
  return Random.derive(options.seed, 'corpus-order').shuffle(documents);
}

/**
 * `count` plain-text statements of a task's training items, drawn with repetition (like facts that recur in
 * real text); never an evaluation item, since the split is decided by content. Deterministic for a seed.
 */
export function nanoStatements(task: NanoTask, count: number, seed: number): string[] {
  if (!task.statement) return [];
  const random = Random.derive(seed, `${task.id}/statements`);
  const statements: string[] = [];
  for (let draws = 0; statements.length < count; draws++) {
    if (draws > count * 50) {
      throw new ValidationError({
        field: 'statementsPerTask',
        message: `${task.id}: its training split is empty`,
      });
    }
    const draft = task.draft(random);
    if (splitOfKey(task.id, draft.splitKey ?? draft.key) !== 'train') continue;
    statements.push(
      task.statement({
        id: draft.key,
        benchmark: task.id,
        input: draft.input,
        target: draft.target,
        meta: {},
      }),
    );
  }
  return statements;
}
