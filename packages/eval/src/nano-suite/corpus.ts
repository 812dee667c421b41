import type { ChatMessage } from '@xfer/core';
import { knowledgeStatements } from './knowledge.js';
import { Random } from './random.js';
import { nanoItems, nanoTasks } from './suite.js';

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
  const repeats = options.knowledgeRepeats ?? 4;
  for (let round = 0; round < repeats; round++) {
    for (const statement of knowledgeStatements()) {
      documents.push({ source: 'knowledge', prompt: END_OF_TEXT, completion: `${statement}${END_OF_TEXT}` });
    }
  }
  return Random.derive(options.seed, 'corpus-order').shuffle(documents);
}
