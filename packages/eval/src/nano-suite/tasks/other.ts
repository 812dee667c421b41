import {
  capitalize,
  DISEASE_ASPECTS,
  type DiseaseAspect,
  diseaseFact,
  diseases,
  drugs,
  ORGANS,
  SUBSTANCE_ASPECTS,
  SUBSTANCE_COLORS,
  SUBSTANCE_KINDS,
  SUBSTANCE_PLACES,
  type SubstanceAspect,
  SYMPTOMS,
  substanceFact,
  substances,
} from '../knowledge.js';
import type { Random } from '../random.js';
import { loglikelihoodChoiceScorer, programOutputScorer } from '../scorers.js';
import type { NanoTask } from '../types.js';
import { formatOptions, storedPrompt } from './shared.js';

/** Four options: the truth plus three distractors from `pool`, shuffled; returns options and the truth's index. */
function optionsWith(
  random: Random,
  truth: string,
  pool: readonly string[],
): { options: string[]; index: number } {
  const distractors = random.sample(
    pool.filter((value) => value !== truth),
    3,
  );
  const options = random.shuffle([truth, ...distractors]);
  return { options, index: options.indexOf(truth) };
}

const VARIABLES = ['a', 'b', 'c'] as const;

/** Run a straight-line program of `name = operand op operand` lines; returns every variable's value. */
export function runProgram(
  lines: readonly { target: string; left: string; operator: string; right: string }[],
) {
  const values = new Map<string, number>();
  const read = (operand: string) => (/^\d+$/.test(operand) ? Number(operand) : values.get(operand)!);
  for (const line of lines) {
    const left = read(line.left);
    if (line.operator === '') {
      values.set(line.target, left);
      continue;
    }
    const right = read(line.right);
    values.set(
      line.target,
      line.operator === '+' ? left + right : line.operator === '-' ? left - right : left * right,
    );
  }
  return values;
}

/** Each assignment with the values it reads in place: `a = 3, b = 3 + 4 = 7, a = 7 * 2 = 14`. */
export function traceOf(lines: readonly { target: string; left: string; operator: string; right: string }[]) {
  const values = new Map<string, number>();
  const read = (operand: string) => (/^\d+$/.test(operand) ? Number(operand) : values.get(operand)!);
  const steps: string[] = [];
  for (const line of lines) {
    const left = read(line.left);
    if (line.operator === '') {
      steps.push(`${line.target} = ${left}`);
      values.set(line.target, left);
      continue;
    }
    const right = read(line.right);
    const value = line.operator === '+' ? left + right : line.operator === '-' ? left - right : left * right;
    steps.push(`${line.target} = ${left} ${line.operator} ${right} = ${value}`);
    values.set(line.target, value);
  }
  return steps.join(', ');
}

/** LiveCodeBench analogue: predict what a tiny straight-line program prints. */
export const nanoProgram: NanoTask = {
  id: 'nano-program',
  group: 'other',
  mirrors: 'livecodebench',
  skill: 'tracing variable assignments through a short program',
  promptTemplate: 'What does this program print?\n{lines of "x = y op z"}\nprint({variable})',
  metric: 'accuracy: the last "Output: <integer>" equals the printed value (greedy)',
  kind: 'generative',
  chance: 0,
  maxTokens: 64,
  draft(random) {
    const lines: { target: string; left: string; operator: string; right: string }[] = [];
    lines.push({ target: 'a', left: String(random.int(1, 9)), operator: '', right: '' });
    const steps = random.int(0, 2);
    const defined = ['a'];
    for (let step = 0; step < steps; step++) {
      const target = step === 0 ? 'b' : random.pick(VARIABLES);
      const operator = random.pick(['+', '-', '*'] as const);
      const left = random.pick(defined);
      const right =
        operator === '*'
          ? String(random.int(2, 3))
          : random.chance(0.5)
            ? String(random.int(1, 9))
            : random.pick(defined);
      lines.push({ target, left, operator, right });
      if (!defined.includes(target)) defined.push(target);
    }
    const printed = random.pick(defined);
    const value = runProgram(lines).get(printed)!;
    const code = lines
      .map((line) =>
        line.operator === ''
          ? `${line.target} = ${line.left}`
          : `${line.target} = ${line.left} ${line.operator} ${line.right}`,
      )
      .join('\n');
    const program = `${code}\nprint(${printed})`;
    return {
      key: program,
      input: { prompt: `What does this program print?\n${program}`, program, trace: traceOf(lines) },
      target: String(value),
    };
  },
  prompt: storedPrompt,
  // The base traces the program with values in place, then prints (`a = 3, b = 3 + 4 = 7. Output: 7`).
  answer: (item) => `${String(item.input.trace)}. Output: ${String(item.target)}`,
  scorer: programOutputScorer('nano-program-output'),
};

const BLOCKS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/**
 * ACPBench analogue (its applicability questions): which of four moves can be made in a blocks world? A
 * move needs both blocks clear (the tops of their stacks). Two levels: level 1 states the clear blocks, as
 * ACPBench's state descriptions do; level 2 gives the stacks only, so the model must find the tops itself.
 * Scored by log-likelihood over the four moves.
 */
export const nanoBlocks: NanoTask = {
  id: 'nano-blocks',
  group: 'other',
  mirrors: 'acpbench',
  skill: 'action applicability in a blocks world',
  promptTemplate:
    'Stacks, bottom to top: {stacks}.{level 1: " Clear: {clear blocks}."}\nWhich move is legal?',
  metric: 'acc: the move with the highest summed logprob is the legal one (4 moves; acc_norm in details)',
  kind: 'loglikelihood',
  chance: 0.25,
  maxTokens: 0,
  draft(random) {
    const order = random.shuffle(BLOCKS);
    const stackCount = random.int(2, 3);
    const cuts = random.sample([1, 2, 3, 4, 5], stackCount - 1).sort((x, y) => x - y);
    const stacks: string[][] = [];
    let start = 0;
    for (const cut of [...cuts, BLOCKS.length]) {
      stacks.push(order.slice(start, cut));
      start = cut;
    }
    const tops = stacks.map((stack) => stack[stack.length - 1]!);
    const legal: string[] = [];
    const illegal: string[] = [];
    for (const block of BLOCKS) {
      for (const onto of BLOCKS) {
        if (block === onto) continue;
        (tops.includes(block) && tops.includes(onto) ? legal : illegal).push(`${block} onto ${onto}`);
      }
    }
    const truth = random.pick(legal);
    const options = random.shuffle([truth, ...random.sample(illegal, 3)]);
    const state = stacks.map((stack) => `[${stack.join(' ')}]`).join(' ');
    const level = random.int(1, 2);
    const clear = level === 1 ? ` Clear: ${[...tops].sort().join(', ')}.` : '';
    const prompt = `Stacks, bottom to top: ${state}.${clear}\nWhich move is legal?`;
    return {
      // One item per prompt; the state decides the split, so no evaluation state is trained on at any level.
      key: prompt,
      splitKey: state,
      input: { prompt, state, tops },
      target: options.indexOf(truth),
      choices: options,
      meta: { level },
    };
  },
  prompt: storedPrompt,
  answer: (item) => item.choices![Number(item.target)]!,
  scorer: loglikelihoodChoiceScorer('nano-loglikelihood'),
};

const SUBSTANCE_POOLS: Record<SubstanceAspect, readonly string[]> = {
  color: SUBSTANCE_COLORS,
  kind: SUBSTANCE_KINDS,
  place: SUBSTANCE_PLACES,
};

/** Two phrasings per aspect: one names the fact's key (`the color of nokium`), one does not. */
function substanceQuestion(aspect: SubstanceAspect, name: string, second: boolean): string {
  if (!second) return `What is the ${aspect} of ${name}?`;
  switch (aspect) {
    case 'color':
      return `Which color does ${name} have?`;
    case 'kind':
      return `${capitalize(name)} is what kind of substance?`;
    case 'place':
      return `Where is ${name} found?`;
  }
}

/**
 * GPQA analogue: multiple-choice questions about the invented substances of the science knowledge base, the
 * four options listed in the prompt, scored by log-likelihood of each option's text.
 */
export const nanoScience: NanoTask = {
  id: 'nano-science',
  group: 'other',
  mirrors: 'gpqa-diamond',
  skill: 'recalling science facts stated in the corpus, under multiple choice',
  promptTemplate:
    'Question: {one of two phrasings of: color / kind / place of} {substance}?\n{A-D options}\nAnswer:',
  metric:
    'acc: the choice with the highest summed logprob is the key (options listed in the prompt, as GPQA lists them; level 1 choices are the fact stated with each option, level 2 the bare options; acc_norm in details)',
  kind: 'loglikelihood',
  chance: 0.25,
  maxTokens: 0,
  draft(random) {
    const substance = random.pick(substances);
    const aspect = random.pick(SUBSTANCE_ASPECTS);
    const question = substanceQuestion(aspect, substance.name, random.chance(0.5));
    const { options, index } = optionsWith(random, substance[aspect], SUBSTANCE_POOLS[aspect]);
    const prompt = `Question: ${question}\n${formatOptions(options)}\nAnswer:`;
    // Level 1 answers in the knowledge base's words (`The color of nokium is gray.`), level 2 with the value.
    const level = random.int(1, 2);
    return {
      key: `${question}|${options.join('|')}|${level}`,
      splitKey: question,
      input: { prompt, question, options, fact: substanceFact(substance, aspect) },
      target: index,
      choices:
        level === 1
          ? options.map((value) => substanceFact({ ...substance, [aspect]: value }, aspect))
          : options,
      meta: { level },
    };
  },
  prompt: storedPrompt,
  answer: (item) => item.choices![Number(item.target)]!,
  scorer: loglikelihoodChoiceScorer('nano-loglikelihood'),
};

const DISEASE_POOLS: Record<DiseaseAspect, readonly string[]> = {
  drug: drugs,
  symptom: SYMPTOMS,
  organ: ORGANS,
};

/** Two phrasings per aspect: one names the fact's key (`the drug for fabosis`), one does not. */
function diseaseQuestion(aspect: DiseaseAspect, name: string, second: boolean): string {
  if (!second) return `What is the ${aspect} ${aspect === 'drug' ? 'for' : 'of'} ${name}?`;
  switch (aspect) {
    case 'drug':
      return `Which drug treats ${name}?`;
    case 'symptom':
      return `Which symptom does ${name} cause?`;
    case 'organ':
      return `Which organ does ${name} affect?`;
  }
}

/** HeadQA analogue: log-likelihood multiple choice over the invented diseases of the medical knowledge base. */
export const nanoMedical: NanoTask = {
  id: 'nano-medical',
  group: 'other',
  mirrors: 'headqa',
  skill: 'recalling medical facts stated in the corpus, scored by log-likelihood',
  promptTemplate: 'Question: {one of two phrasings of: drug / symptom / organ of} {disease}?\nAnswer:',
  metric:
    'acc: the choice with the highest summed logprob is the key (level 1 choices are the fact stated with each option, level 2 the bare options; acc_norm in details)',
  kind: 'loglikelihood',
  chance: 0.25,
  maxTokens: 0,
  draft(random) {
    const disease = random.pick(diseases);
    const aspect = random.pick(DISEASE_ASPECTS);
    const question = diseaseQuestion(aspect, disease.name, random.chance(0.5));
    const { options, index } = optionsWith(random, disease[aspect], DISEASE_POOLS[aspect]);
    // Level 1 answers in the knowledge base's words (`The drug for pluplosis is munmine.`), level 2 with the value.
    const level = random.int(1, 2);
    return {
      key: `${question}|${options.join('|')}|${level}`,
      splitKey: question,
      input: { prompt: `Question: ${question}\nAnswer:`, question, fact: diseaseFact(disease, aspect) },
      target: index,
      choices:
        level === 1 ? options.map((value) => diseaseFact({ ...disease, [aspect]: value }, aspect)) : options,
      meta: { level },
    };
  },
  prompt: storedPrompt,
  answer: (item) => item.choices![Number(item.target)]!,
  scorer: loglikelihoodChoiceScorer('nano-loglikelihood'),
};

export const otherTasks: readonly NanoTask[] = [nanoProgram, nanoBlocks, nanoScience, nanoMedical];
