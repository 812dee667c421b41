import { EngineError, type GenerateRequest, generateAll } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { createChatTemplate } from '../chat/chat-template.js';
import { mathHendrycksScorer } from '../scorers/math/math-scorers.js';
import { arithmeticFacts } from './corpus.js';
import { nanoItems, nanoTasksOfGroup } from './suite.js';
import {
  compactColumn,
  countNanoTokens,
  mathWork,
  NanoTeacherEngine,
  parseMathProblem,
  questionOf,
  solveMathProblem,
  workedExample,
} from './teacher.js';

const qwenLike = createChatTemplate(
  [
    '{%- for message in messages %}',
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}",
    '{%- endfor %}',
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}",
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}",
    '{%- endif %}',
  ].join(''),
);

const mathItems = nanoTasksOfGroup('math').flatMap((task) =>
  nanoItems(task, { split: 'train', count: 25, seed: 3 }).map((item) => ({ task, item })),
);

function requests(
  enableThinking: boolean,
  sampling: Partial<GenerateRequest['sampling']> = {},
): GenerateRequest[] {
  return mathItems.map(({ task, item }, index) => ({
    id: `r${index}`,
    prompt: qwenLike.render([{ role: 'user', content: task.prompt(item) }], { enableThinking }),
    sampling: {
      temperature: 0,
      topP: 1,
      topK: -1,
      maxTokens: 400,
      stop: [],
      seed: 0,
      logprobs: false,
      ...sampling,
    },
  }));
}

describe('NanoTeacherEngine', () => {
  it('parses every nano math question and solves it exactly', () => {
    for (const { task, item } of mathItems) {
      const problem = parseMathProblem(task.prompt(item));
      expect(problem, task.prompt(item)).not.toBeNull();
      expect(String(solveMathProblem(problem!))).toBe(String(item.target));
    }
  });

  it('writes think traces inside <think>…</think> that the paper math scorer verifies', async () => {
    const teacher = new NanoTeacherEngine({ errorRate: 0 });
    const outputs = await generateAll(teacher, requests(true));
    for (const [index, output] of outputs.entries()) {
      const { item } = mathItems[index]!;
      expect(output.text.startsWith('<think>\n')).toBe(true);
      expect(output.text).toMatch(/<\/think>\n\n.*\\boxed\{/);
      expect(output.text.split('\n').length).toBeGreaterThan(4);
      expect((await mathHendrycksScorer.score({ item, completion: output.text })).correct).toBe(true);
      expect(output.completionTokens).toBe(countNanoTokens(output.text));
      expect(output.completionTokens).toBeLessThan(230);
    }
  });

  it('answers the no-think template with a short worked answer and no reasoning block', async () => {
    const teacher = new NanoTeacherEngine({ errorRate: 0 });
    const think = await generateAll(teacher, requests(true));
    const outputs = await generateAll(teacher, requests(false));
    for (const [index, output] of outputs.entries()) {
      expect(output.text).not.toContain('<think>');
      expect(output.text.length).toBeLessThan(think[index]!.text.length);
      const verdict = await mathHendrycksScorer.score({
        item: mathItems[index]!.item,
        completion: output.text,
      });
      expect(verdict.correct).toBe(true);
    }
  });

  it('follows an explicit mode whatever the template says', async () => {
    const teacher = new NanoTeacherEngine({ mode: 'think', errorRate: 0 });
    const [output] = await generateAll(teacher, requests(false).slice(0, 1));
    expect(output!.text.startsWith('<think>')).toBe(true);
  });

  it('makes seeded mistakes at the configured rate, so rejection sampling rejects some', async () => {
    const teacher = new NanoTeacherEngine({ errorRate: 0.3 });
    const many = Array.from({ length: 8 }, (_, seed) => requests(true, { temperature: 1, seed }))
      .flat()
      .map((request, index) => ({ ...request, id: `s${index}` }));
    const outputs = await generateAll(teacher, many);
    const verdicts = await Promise.all(
      outputs.map((output, index) =>
        mathHendrycksScorer.score({
          item: mathItems[index % mathItems.length]!.item,
          completion: output.text,
        }),
      ),
    );
    const correct = verdicts.filter((verdict) => verdict.correct).length;
    const errorShare = 1 - correct / outputs.length;
    expect(errorShare).toBeGreaterThan(0.2);
    expect(errorShare).toBeLessThan(0.4);
    const again = await generateAll(teacher, many);
    expect(again.map((output) => output.text)).toEqual(outputs.map((output) => output.text));
  });

  it('varies its phrasing across seeds when sampling, never when greedy', async () => {
    const teacher = new NanoTeacherEngine({ errorRate: 0 });
    const sampled = new Set<string>();
    const greedy = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      sampled.add(
        (await generateAll(teacher, requests(true, { temperature: 1, seed }).slice(0, 1)))[0]!.text,
      );
      greedy.add((await generateAll(teacher, requests(true, { temperature: 0, seed }).slice(0, 1)))[0]!.text);
    }
    expect(sampled.size).toBeGreaterThan(1);
    expect(greedy.size).toBe(1);
  });

  it('stops at maxTokens with finish reason length, and reports unparseable prompts as errors', async () => {
    const teacher = new NanoTeacherEngine({ errorRate: 0 });
    const [short] = await generateAll(teacher, requests(true, { maxTokens: 10 }).slice(0, 1));
    expect(short!.finishReason).toBe('length');
    expect(short!.completionTokens).toBe(10);
    const [other] = await generateAll(teacher, [
      {
        ...requests(true)[0]!,
        prompt: qwenLike.render([{ role: 'user', content: 'Write a poem.' }], { enableThinking: true }),
      },
    ]);
    expect(other!.finishReason).toBe('error');
    await expect(teacher.score()).rejects.toSatisfy((error) => EngineError.isInstance(error));
  });
});

describe('compactColumn', () => {
  it('writes one true digit step per place whose result digits, read back, are the answer', () => {
    for (let a = 0; a < 1000; a += 7) {
      for (let b = 0; b <= a; b += 13) {
        for (const operator of ['+', '-'] as const) {
          const steps = compactColumn(a, operator, b).split(', ');
          const digits: number[] = [];
          for (const step of steps) {
            const [left, right] = step.split('=');
            // Each step is true arithmetic on its own (e.g. 12-7=5, 5-1-1=3, 4+3+1=8).
            expect(Function(`return ${left}`)(), step).toBe(Number(right));
            digits.push(Number(right) % 10);
          }
          const last = Number(steps.at(-1)!.split('=')[1]);
          const value =
            digits.slice(0, -1).reduce((total, digit, place) => total + digit * 10 ** place, 0) +
            last * 10 ** (steps.length - 1);
          expect(value, `${a}${operator}${b}: ${steps.join(', ')}`).toBe(operator === '+' ? a + b : a - b);
        }
      }
    }
  });
});

describe('mathWork', () => {
  const tables = new Set(arithmeticFacts().map((fact) => fact.slice(0, -1)));
  const items = nanoTasksOfGroup('math').flatMap((task) =>
    nanoItems(task, { split: 'eval', count: 200 }).map((item) => ({ task, item })),
  );

  it('restates the problem, makes only true steps, and ends in the answer', () => {
    for (const { task, item } of items) {
      const problem = parseMathProblem(task.prompt(item))!;
      expect(questionOf(problem)).toBe(task.prompt(item));
      const { work, result } = mathWork(problem);
      expect(work.endsWith(result), work).toBe(true);
      expect(result.endsWith(`${item.target}.`), result).toBe(true);
      // Every `left=right` with plain arithmetic on both sides is true (`x=81/9=9` checks 81/9=9).
      for (const equation of work.matchAll(/(?:^|[ :,(=])(-?[\d(][\d+\-*/()]*)=(-?\d+)(?=[,.])/g)) {
        expect(Function(`return ${equation[1]}`)(), `${equation[0]} in ${work}`).toBe(Number(equation[2]));
      }
      expect(workedExample(problem)).toBe(`${task.prompt(item)}\n${work}`);
    }
  });

  it('asks for no fact beyond the tables the corpus states, except big quotients and remainders', () => {
    let checked = 0;
    for (const { task, item } of items) {
      if (task.id === 'nano-remainder' && item.meta.level === 3) continue;
      const { work } = mathWork(parseMathProblem(task.prompt(item))!);
      // A step that is one table lookup: a single operation on numbers, not columned (no `:` after it).
      for (const step of work.split(/[:,] /)) {
        const fact = step.replace(/^so /, '').replace(/\.$/, '');
        if (!/^\d+[+\-*/]\d+(?:[+-]1)?=\d+$/.test(fact) || fact.startsWith('x')) continue;
        const [left] = fact.split('=');
        if (work.includes(`${left}:`)) continue;
        expect(tables.has(fact), `${fact} in ${work}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});
