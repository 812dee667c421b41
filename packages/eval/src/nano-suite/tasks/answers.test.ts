import { describe, expect, it } from 'vitest';
import { diseases, substances, timedEvents } from '../knowledge.js';
import { nanoItems } from '../suite.js';
import { nanoLinear, nanoMultistep } from './math.js';
import { nanoSupport, nanoTemporal } from './non.js';
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
    const levels = new Set<unknown>();
    for (const item of nanoItems(nanoScience, { split: 'eval', count: 100 })) {
      const value = facts.get(String(item.input.fact))!;
      const options = item.input.options as string[];
      expect(options[Number(item.target)]).toBe(value);
      expect(new Set(options).size).toBe(4);
      // The prompt lists the options, GPQA style, in the order they are scored.
      expect(String(item.input.prompt)).toContain(
        options.map((option, index) => `${'ABCD'[index]}) ${option}`).join('\n'),
      );
      // Level 1 scores the fact stated with each option, level 2 the bare options.
      levels.add(item.meta.level);
      const stated = String(item.input.fact).replace(/ \w+\.$/, '');
      expect(item.choices).toEqual(
        item.meta.level === 1 ? options.map((option) => `${stated} ${option}.`) : options,
      );
      expect(nanoScience.answer(item)).toBe(item.meta.level === 1 ? item.input.fact : value);
    }
    expect([...levels].sort()).toEqual([1, 2]);
  });

  it('offers four blocks moves of which only the key moves two tops', () => {
    for (const item of nanoItems(nanoBlocks, { split: 'eval', count: 200 })) {
      const state = String(item.input.state);
      const stacks = [...state.matchAll(/\[([a-f ]+)\]/g)].map((match) => match[1]!.split(' '));
      expect(stacks.flat().sort().join('')).toBe('abcdef');
      const tops = stacks.map((stack) => stack[stack.length - 1]!);
      // Level 1 states the clear blocks; level 2 the stacks only, the tops are the model's to find.
      const clear = item.meta.level === 1 ? ` Clear: ${[...tops].sort().join(', ')}.` : '';
      expect(String(item.input.prompt)).toBe(
        `Stacks, bottom to top: ${state}.${clear}\nWhich move is legal?`,
      );
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

  it('asks temporal durations of one event or two in a row, judged by the unit the whole takes', () => {
    const units = ['seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years'];
    const unitOf = new Map(timedEvents.map((event) => [event.clause, event.unit]));
    const seen = new Map<string, number>();
    for (const item of nanoItems(nanoTemporal, { split: 'eval', count: 200 })) {
      const events = item.input.events as string[];
      expect(events).toHaveLength(Number(item.meta.level));
      const eventUnits = events.map((event) => unitOf.get(event)!);
      // The whole is measured in the longest event's unit; two events never share one.
      const whole = eventUnits.reduce((a, b) => (units.indexOf(a) >= units.indexOf(b) ? a : b));
      expect(item.input.whole).toBe(whole);
      expect(new Set(eventUnits).size).toBe(eventUnits.length);
      const [amount, unit] = String(item.input.duration).split(' ') as [string, string];
      expect(Number(amount)).toBeGreaterThanOrEqual(2);
      expect(String(item.input.prompt)).toBe(
        `${/^\w+/.exec(String(item.input.prompt))![0]} ${events.join(', then ')}.\nQuestion: How long did it take?\nAnswer: ${amount} ${unit}\nIs the answer plausible? Yes or No.`,
      );
      const distance = Math.abs(units.indexOf(unit) - units.indexOf(whole));
      if (item.target === 'Yes') expect(distance).toBe(0);
      else if (item.meta.level === 1) expect(distance).toBeGreaterThanOrEqual(3);
      // Level 2's implausible duration is the shorter event's own unit: right for one part, not the whole.
      else expect(unit).toBe(eventUnits.find((candidate) => candidate !== whole));
      // The base recalls each event's unit, then the whole's, then judges.
      const recalled = eventUnits.length > 1 ? `${eventUnits.join(', then ')}: ${whole}` : whole;
      expect(nanoTemporal.answer(item)).toBe(`It takes ${recalled}. ${String(item.target)}.`);
      const key = `${String(item.target)}/${String(item.meta.level)}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['No/1', 'No/2', 'Yes/1', 'Yes/2']);
    for (const count of seen.values()) expect(count).toBeGreaterThan(30);
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
      const key = item.choices![Number(item.target)]!;
      expect(item.meta.level === 1 ? key === fact : fact.endsWith(` ${key}.`)).toBe(true);
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
