import { describe, expect, it } from 'vitest';
import { createChatTemplate } from '../chat/chat-template.js';
import { arithmeticFacts, buildNanoCorpus, END_OF_TEXT, END_OF_TURN, nanoStatements } from './corpus.js';
import { CITIES, knowledgeStatements, PEOPLE, substances } from './knowledge.js';
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

  it("adds copy drills: a list of the world's names, then the same list again", () => {
    const drilled = buildNanoCorpus({
      seed: 5,
      itemsPerTask: 1,
      knowledgeRepeats: 0,
      copyDrills: 300,
      render,
    });
    const drills = drilled.filter((document) => document.source === 'copy');
    expect(drills).toHaveLength(300);
    const names = new Set([...substances.map((substance) => substance.name), ...PEOPLE, ...CITIES]);
    let named = 0;
    for (const drill of drills) {
      expect(drill.prompt).toBe(END_OF_TEXT);
      const match = /^Copy: (.+)\. Again: (.+)\.<\|endoftext\|>$/.exec(drill.completion);
      expect(match, drill.completion).not.toBeNull();
      expect(match![2]).toBe(match![1]);
      const words = match![1]!.split(' ');
      expect(words.length).toBeGreaterThanOrEqual(3);
      expect(words.length).toBeLessThanOrEqual(6);
      expect(new Set(words).size).toBe(words.length);
      named += words.filter((word) => names.has(word)).length;
    }
    expect(named).toBeGreaterThan(0);
    // Different drills, not one repeated.
    expect(new Set(drills.map((drill) => drill.completion)).size).toBeGreaterThan(290);
    expect(
      buildNanoCorpus({ seed: 5, itemsPerTask: 1, knowledgeRepeats: 0, copyDrills: 300, render }),
    ).toEqual(drilled);
    for (const copyDrills of [-1, 2.5])
      expect(() => buildNanoCorpus({ seed: 5, itemsPerTask: 1, copyDrills, render })).toThrow(/copyDrills/);
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

  it('states the one-digit tables truly, and no evaluation item is one of them', () => {
    const facts = arithmeticFacts();
    expect(new Set(facts).size).toBe(facts.length);
    for (const fact of facts) {
      const [left, right] = fact.slice(0, -1).split('=');
      expect(Function(`return ${left}`)(), fact).toBe(Number(right));
    }
    const statements = new Set(facts);
    for (const task of nanoTasks) {
      if (!task.statement) continue;
      for (const item of nanoItems(task, { split: 'eval', count: 200 }))
        expect(statements.has(task.statement(item))).toBe(false);
    }
    const corpus = buildNanoCorpus({ seed: 1, itemsPerTask: 0, knowledgeRepeats: 0, factRepeats: 2, render });
    expect(corpus.filter((document) => document.source === 'facts')).toHaveLength(facts.length * 2);
  });

  it('answers the configured share of math chat items with the worked solution, and no other item', () => {
    const build = (workedChatShare: number) =>
      buildNanoCorpus({ seed: 4, itemsPerTask: 1000, knowledgeRepeats: 0, workedChatShare, render });
    const worked = (documents: ReturnType<typeof build>) =>
      documents.filter((document) => /^[^ ]+: .*, so .*\\boxed/.test(document.completion));
    const share = worked(build(0.25));
    const math = build(0.25).filter((document) => getNanoTask(document.source).group === 'math');
    expect(share.every((document) => getNanoTask(document.source).group === 'math')).toBe(true);
    expect(share.length / math.length).toBeGreaterThan(0.2);
    expect(share.length / math.length).toBeLessThan(0.3);
    for (const document of share) {
      const item = document.completion.match(/\\boxed\{(-?\d+)\}/)![1];
      expect(document.completion).toContain(`${item}. The answer is`);
    }
    expect(worked(build(0))).toHaveLength(0);
    expect(() => build(1.5)).toThrow(/workedChatShare/);
  });
});
