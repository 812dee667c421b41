import { describe, expect, it } from 'vitest';
import { diseases, substances } from '../knowledge.js';
import { nanoItems } from '../suite.js';
import { nanoLinear, nanoMultistep } from './math.js';
import { nanoMedical, nanoScience } from './other.js';

describe("the base's answers (the corpus's answer style)", () => {
  it('recalls the science fact in the knowledge base words, then gives the letter of its value', () => {
    const names = new Set(substances.map((substance) => substance.name));
    for (const item of nanoItems(nanoScience, { split: 'eval', count: 100 })) {
      const answer = nanoScience.answer(item);
      const fact = /^The (color|kind|place) of (\w+) is (\w+)\. The answer is \\boxed\{([A-D])\}\.$/.exec(
        answer,
      );
      expect(fact, answer).not.toBeNull();
      expect(names.has(fact![2]!)).toBe(true);
      expect(String(item.input.question).toLowerCase()).toContain(fact![2]!);
      expect(fact![4]).toBe(item.target);
      const options = item.input.options as string[];
      expect(options['ABCD'.indexOf(String(item.target))]).toBe(fact![3]);
    }
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
