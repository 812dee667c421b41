import { describe, expect, it } from 'vitest';
import { diseases, substances } from '../knowledge.js';
import { nanoItems } from '../suite.js';
import { nanoLinear, nanoMultistep } from './math.js';
import { nanoSupport } from './non.js';
import { nanoBlocks, nanoMedical, nanoScience } from './other.js';

describe("the base's answers (the corpus's answer style)", () => {
  it('answers science with the value of the asked fact, one of the options the prompt lists', () => {
    const facts = new Map(
      substances.flatMap((substance) =>
        (['color', 'kind', 'place'] as const).map((aspect) => [
          `The ${aspect} of ${substance.name} is ${substance[aspect]}.`,
          substance[aspect],
        ]),
      ),
    );
    for (const item of nanoItems(nanoScience, { split: 'eval', count: 100 })) {
      const value = nanoScience.answer(item);
      expect(value).toBe(facts.get(String(item.input.fact)));
      expect(item.choices![Number(item.target)]).toBe(value);
      expect(new Set(item.choices).size).toBe(4);
      // The prompt lists the options, GPQA style, in the order they are scored.
      expect(String(item.input.prompt)).toContain(
        item.choices!.map((choice, index) => `${'ABCD'[index]}) ${choice}`).join('\n'),
      );
    }
  });

  it('offers four blocks moves of which only the key moves two tops', () => {
    for (const item of nanoItems(nanoBlocks, { split: 'eval', count: 200 })) {
      const state = String(item.input.state);
      const stacks = [...state.matchAll(/\[([a-f ]+)\]/g)].map((match) => match[1]!.split(' '));
      expect(stacks.flat().sort().join('')).toBe('abcdef');
      const tops = stacks.map((stack) => stack[stack.length - 1]!);
      // The prompt states the stacks only: the tops are the model's to find.
      expect(String(item.input.prompt)).toBe(`Stacks, bottom to top: ${state}.\nWhich move is legal?`);
      const legal = item.choices!.map((move) => {
        const [block, onto] = move.split(' onto ') as [string, string];
        expect(block).not.toBe(onto);
        return tops.includes(block) && tops.includes(onto);
      });
      expect(legal.filter(Boolean)).toHaveLength(1);
      expect(legal[Number(item.target)]).toBe(true);
      expect(nanoBlocks.answer(item)).toBe(item.choices![Number(item.target)]);
    }
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
