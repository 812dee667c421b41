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
import {
  choiceLetterScorer,
  loglikelihoodChoiceScorer,
  programOutputScorer,
  yesNoScorer,
} from '../scorers.js';
import type { NanoTask } from '../types.js';
import { formatOptions, LETTERS, storedPrompt } from './shared.js';

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

const BLOCKS = ['a', 'b', 'c', 'd', 'e'] as const;

/**
 * ACPBench analogue (its boolean applicability questions): can a block be moved onto another in this state?
 * The state is stated as ACPBench states it, stacks and the clear blocks; a move needs both blocks clear.
 */
export const nanoBlocks: NanoTask = {
  id: 'nano-blocks',
  group: 'other',
  mirrors: 'acpbench',
  skill: 'action applicability in a blocks world',
  promptTemplate:
    'Stacks, bottom to top: {stacks}. Clear: {clear blocks}.\nCan we move {x} onto {y}? Yes or No.',
  metric: 'accuracy: the first line holds exactly one of Yes/No and it equals the label (greedy)',
  kind: 'generative',
  chance: 0.5,
  maxTokens: 48,
  draft(random) {
    const order = random.shuffle(BLOCKS);
    const stackCount = random.int(2, 3);
    const cuts = random.sample([1, 2, 3, 4], stackCount - 1).sort((x, y) => x - y);
    const stacks: string[][] = [];
    let start = 0;
    for (const cut of [...cuts, BLOCKS.length]) {
      stacks.push(order.slice(start, cut));
      start = cut;
    }
    const clear = stacks.map((stack) => stack[stack.length - 1]!);
    const buried = BLOCKS.filter((block) => !clear.includes(block));
    // Half the questions ask a legal move (both clear); the others bury the block, the target or both.
    const legal = random.chance(0.5);
    let block: string;
    let onto: string;
    if (legal) [block, onto] = random.sample(clear, 2) as [string, string];
    else {
      const shape = random.pick(['block', 'onto', 'both'] as const);
      block = shape === 'onto' ? random.pick(clear) : random.pick(buried);
      onto = random.pick((shape === 'block' ? clear : buried).filter((candidate) => candidate !== block));
    }
    const state = stacks.map((stack) => `[${stack.join(' ')}]`).join(' ');
    const listed = [...clear].sort().join(', ');
    const prompt = `Stacks, bottom to top: ${state}. Clear: ${listed}.\nCan we move ${block} onto ${onto}? Yes or No.`;
    return {
      key: prompt,
      input: { prompt, state, clear, block, onto },
      target: legal ? 'Yes' : 'No',
    };
  },
  prompt: storedPrompt,
  // The base checks each block against the clear ones, then judges (`a is clear, d is not clear. No.`).
  answer: (item) => {
    const clear = item.input.clear as string[];
    const check = (block: string) => `${block} is ${clear.includes(block) ? '' : 'not '}clear`;
    return `${check(String(item.input.block))}, ${check(String(item.input.onto))}. ${String(item.target)}.`;
  },
  scorer: yesNoScorer('nano-yes-no'),
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

/** GPQA analogue: multiple-choice questions about the invented substances of the science knowledge base. */
export const nanoScience: NanoTask = {
  id: 'nano-science',
  group: 'other',
  mirrors: 'gpqa-diamond',
  skill: 'recalling science facts stated in the corpus, under multiple choice',
  promptTemplate:
    'Question: {one of two phrasings of: color / kind / place of} {substance}?\n{A-D options}\nAnswer in \\boxed{}.',
  metric:
    "accuracy: extracted letter equals the key; an answer that names an option's text counts as its letter (greedy)",
  kind: 'generative',
  chance: 0.25,
  maxTokens: 48,
  draft(random) {
    const substance = random.pick(substances);
    const aspect = random.pick(SUBSTANCE_ASPECTS);
    const question = substanceQuestion(aspect, substance.name, random.chance(0.5));
    const { options, index } = optionsWith(random, substance[aspect], SUBSTANCE_POOLS[aspect]);
    const prompt = `Question: ${question}\n${formatOptions(options)}\nAnswer in \\boxed{}.`;
    return {
      key: `${question}|${options.join('|')}`,
      splitKey: question,
      input: { prompt, question, options, fact: substanceFact(substance, aspect) },
      target: LETTERS[index]!,
    };
  },
  prompt: storedPrompt,
  // The base answers with the recalled value, which names its option (`The answer is \\boxed{gray}.`).
  answer: (item) =>
    `The answer is \\boxed{${(item.input.options as string[])[LETTERS.indexOf(String(item.target) as 'A')]!}}.`,
  scorer: choiceLetterScorer('nano-letter'),
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
  metric: 'acc: the choice with the highest summed logprob is the key (acc_norm in details)',
  kind: 'loglikelihood',
  chance: 0.25,
  maxTokens: 0,
  draft(random) {
    const disease = random.pick(diseases);
    const aspect = random.pick(DISEASE_ASPECTS);
    const question = diseaseQuestion(aspect, disease.name, random.chance(0.5));
    const { options, index } = optionsWith(random, disease[aspect], DISEASE_POOLS[aspect]);
    return {
      key: `${question}|${options.join('|')}`,
      splitKey: question,
      input: { prompt: `Question: ${question}\nAnswer:`, question, fact: diseaseFact(disease, aspect) },
      target: index,
      choices: options,
    };
  },
  prompt: storedPrompt,
  answer: (item) => item.choices![Number(item.target)]!,
  scorer: loglikelihoodChoiceScorer('nano-loglikelihood'),
};

export const otherTasks: readonly NanoTask[] = [nanoProgram, nanoBlocks, nanoScience, nanoMedical];
