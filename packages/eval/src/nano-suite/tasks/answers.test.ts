import { describe, expect, it } from 'vitest';
import { diseases, substances } from '../knowledge.js';
import { nanoItems } from '../suite.js';
import { nanoLinear, nanoMultistep } from './math.js';
import { nanoSupport } from './non.js';
import { nanoBlocks, nanoMedical, nanoScience } from './other.js';

describe("the base's answers (the corpus's answer style)", () => {
  it('answers science with the value of the asked fact, which names the key option', async () => {
    const facts = new Map(
      substances.flatMap((substance) =>
        (['color', 'kind', 'place'] as const).map((aspect) => [
          `The ${aspect} of ${substance.name} is ${substance[aspect]}.`,
          substance[aspect],
        ]),
      ),
    );
    const scorer = nanoScience.scorer;
    if (scorer.kind !== 'generative') throw new Error('nano-science is scored on generations');
    for (const item of nanoItems(nanoScience, { split: 'eval', count: 100 })) {
      const answer = nanoScience.answer(item);
      const value = /^The answer is \\boxed\{(\w+)\}\.$/.exec(answer)?.[1];
      expect(value, answer).toBe(facts.get(String(item.input.fact)));
      const options = item.input.options as string[];
      expect(options['ABCD'.indexOf(String(item.target))]).toBe(value);
      const verdict = await scorer.score({ item, completion: answer });
      expect(verdict.extracted).toBe(item.target);
      // Another option's text is that option's letter, so it is wrong.
      const other = options.find((option) => option !== value)!;
      const wrong = await scorer.score({ item, completion: `\\boxed{${other}}` });
      expect(wrong.correct).toBe(false);
    }
  });

  it('asks blocks moves that are legal exactly when both blocks are clear, half of them legal', () => {
    const items = nanoItems(nanoBlocks, { split: 'eval', count: 200 });
    let legal = 0;
    for (const item of items) {
      const { state, block, onto } = item.input as { state: string; block: string; onto: string };
      const stacks = [...state.matchAll(/\[([a-e ]+)\]/g)].map((match) => match[1]!.split(' '));
      expect(stacks.flat().sort().join('')).toBe('abcde');
      const tops = stacks.map((stack) => stack[stack.length - 1]!);
      expect(String(item.input.prompt)).toContain(`Clear: ${[...tops].sort().join(', ')}.`);
      expect(block).not.toBe(onto);
      const expected = tops.includes(block) && tops.includes(onto) ? 'Yes' : 'No';
      expect(item.target).toBe(expected);
      if (expected === 'Yes') legal++;
      const check = (name: string) => `${name} is ${tops.includes(name) ? '' : 'not '}clear`;
      expect(nanoBlocks.answer(item)).toBe(`${check(block)}, ${check(onto)}. ${expected}.`);
    }
    expect(legal / items.length).toBeGreaterThan(0.35);
    expect(legal / items.length).toBeLessThan(0.65);
  });

  it('judges support candidates of every unsupported kind, and names the types it compares', () => {
    const kinds = new Map<string, number>();
    for (const item of nanoItems(nanoSupport, { split: 'eval', count: 200 })) {
      const input = item.input as Record<string, string>;
      kinds.set(input.kind!, (kinds.get(input.kind!) ?? 0) + 1);
      const passage = input.passage!;
      const asked = nanoSupport.answer(item);
      expect(asked).toBe(`Asked: ${input.asked}. Given: ${input.given}. ${String(item.target)}.`);
      expect(item.target).toBe(input.kind === 'supported' ? 'Yes' : 'No');
      if (input.kind === 'wrong-type') expect(input.given).not.toBe(input.asked);
      else expect(input.given).toBe(input.asked);
      if (input.kind === 'unstated') expect(passage).not.toContain(input.candidate);
      if (input.kind === 'other-person' || input.kind === 'supported')
        expect(passage).toContain(input.candidate);
    }
    for (const kind of ['supported', 'wrong-type', 'other-person', 'unstated'])
      expect(kinds.get(kind), kind).toBeGreaterThan(10);
  });

  it('asks medical questions whose key is a fact the knowledge base states', () => {
    const statements = new Set(
      diseases.flatMap((disease) => [
        `The drug for ${disease.name} is ${disease.drug}.`,
        `The symptom of ${disease.name} is ${disease.symptom}.`,
        `The organ of ${disease.name} is ${disease.organ}.`,
      ]),
    );
    for (const item of nanoItems(nanoMedical, { split: 'eval', count: 100 })) {
      const fact = String(item.input.fact);
      expect(statements.has(fact)).toBe(true);
      expect(fact.endsWith(` ${item.choices![Number(item.target)]}.`)).toBe(true);
    }
  });

  it('writes the one intermediate of multi-step arithmetic and linear equations, and it is right', () => {
    for (const item of nanoItems(nanoMultistep, { split: 'eval', count: 100 })) {
      const answer = nanoMultistep.answer(item);
      const [, expression, intermediate, result] = /^(.+?)=(.+?)=(-?\d+)\./.exec(answer)!;
      expect(expression).toBe(item.input.expression);
      // Every step is an equality of integer arithmetic (`*` binds first, as written).
      expect(Function(`return ${intermediate}`)()).toBe(Number(item.target));
      expect(Function(`return ${expression}`)()).toBe(Number(result));
      expect(intermediate).toMatch(/^-?\d+[*+-]\d+$/);
    }
    for (const item of nanoItems(nanoLinear, { split: 'eval', count: 100 })) {
      const { a, b, c } = item.input as { a: number; b: number; c: number };
      const answer = nanoLinear.answer(item);
      if (a !== 1 && b !== 0) expect(answer).toContain(`, ${a}x=${c - b}, x=${item.target}.`);
      else expect(answer).toContain(`, x=${item.target}.`);
      expect(a * Number(item.target) + b).toBe(c);
    }
  });
});
