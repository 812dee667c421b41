import { describe, expect, it } from 'vitest';
import { createChatTemplate } from '../chat/chat-template.js';
import { buildNanoCorpus, END_OF_TEXT, END_OF_TURN, nanoStatements } from './corpus.js';
import { knowledgeStatements } from './knowledge.js';
import { getNanoTask, nanoItems, nanoTasks } from './suite.js';

const template = createChatTemplate(
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}",
);
const render = (messages: Parameters<typeof template.render>[0], options: { enableThinking: boolean }) =>
  template.render(messages, options);

describe('buildNanoCorpus', () => {
  const corpus = buildNanoCorpus({ seed: 5, itemsPerTask: 60, knowledgeRepeats: 2, render });

  it('holds every task, chat-rendered, answered in the plain base style, and the knowledge facts', () => {
    for (const task of nanoTasks)
      expect(corpus.filter((document) => document.source === task.id)).toHaveLength(60);
    const facts = corpus.filter((document) => document.source === 'knowledge');
    expect(facts).toHaveLength(knowledgeStatements().length * 2);
    for (const document of corpus) {
      if (document.source === 'knowledge') {
        expect(document.prompt).toBe(END_OF_TEXT);
        expect(document.completion.endsWith(END_OF_TEXT)).toBe(true);
      } else {
        expect(document.prompt.startsWith('<|im_start|>user\n')).toBe(true);
        expect(document.prompt.endsWith('<think>\n\n</think>\n\n')).toBe(true);
        expect(document.completion.endsWith(END_OF_TURN)).toBe(true);
        expect(document.completion).not.toContain('<think>');
      }
    }
  });

  it('never contains an evaluation prompt', () => {
    const prompts = new Set(corpus.map((document) => document.prompt));
    for (const task of nanoTasks) {
      for (const item of nanoItems(task, { split: 'eval', count: 200 })) {
        expect(
          prompts.has(render([{ role: 'user', content: task.prompt(item) }], { enableThinking: false })),
        ).toBe(false);
      }
    }
  });

  it('is the same for the same seed and shuffled differently for another', () => {
    expect(buildNanoCorpus({ seed: 5, itemsPerTask: 60, knowledgeRepeats: 2, render })).toEqual(corpus);
    const other = buildNanoCorpus({ seed: 6, itemsPerTask: 60, knowledgeRepeats: 2, render });
    expect(other.map((document) => document.prompt)).not.toEqual(corpus.map((document) => document.prompt));
  });

  it('states every science fact that the science questions ask about', () => {
    const text = corpus.map((document) => document.completion).join('\n');
    for (const statement of knowledgeStatements()) expect(text).toContain(statement);
  });

  it('adds plain-text math statements from the training split only, with true results', () => {
    const withText = buildNanoCorpus({
      seed: 5,
      itemsPerTask: 10,
      knowledgeRepeats: 0,
      statementsPerTask: 300,
      render,
    });
    const arithmetic = getNanoTask('nano-arithmetic');
    const evalStatements = new Set(
      nanoItems(arithmetic, { split: 'eval', count: 200 }).map((item) => arithmetic.statement!(item)),
    );
    const texts = withText.filter((document) => document.source === 'nano-arithmetic/text');
    expect(texts).toHaveLength(300);
    expect(withText.filter((document) => document.source.endsWith('/text'))).toHaveLength(4 * 300);
    for (const document of texts) {
      expect(document.prompt).toBe(END_OF_TEXT);
      const statement = document.completion.slice(0, -END_OF_TEXT.length);
      expect(evalStatements.has(statement)).toBe(false);
      const match = statement.match(/^(\d+)([+-])(\d+)=(-?\d+)\.$/);
      expect(match, statement).not.toBeNull();
      const [, a, operator, b, result] = match!;
      expect(Number(result)).toBe(operator === '+' ? Number(a) + Number(b) : Number(a) - Number(b));
    }
    expect(nanoStatements(arithmetic, 50, 9)).toEqual(nanoStatements(arithmetic, 50, 9));
    expect(nanoStatements(arithmetic, 50, 9)).not.toEqual(nanoStatements(arithmetic, 50, 10));
    expect(nanoStatements(getNanoTask('nano-passage'), 50, 9)).toEqual([]);
  });
});
