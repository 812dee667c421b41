import { join } from 'node:path';
import { type BenchmarkItem, parseJson, parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';
import { requireDataDir } from '../data/data-dir.js';
import { PythonRandom } from '../data/python-random.js';
import { parseCsvRecords, parseJsonArray, parseTsvRecords, readTextFile } from '../data/read-records.js';
import {
  accuracyMetrics,
  applyLimit,
  type BenchmarkSample,
  defineBenchmark,
  type LoadOptions,
  meanOf,
} from '../registry/benchmark.js';
import { acpMultiChoiceScorer } from '../scorers/acpbench.js';
import { gpqaLetterScorer } from '../scorers/gpqa.js';
import { binaryF1, loglikelihoodScorer } from '../scorers/loglikelihood.js';
import { readHubRecords, readLocalRecords } from './load-helpers.js';

const letters = ['A', 'B', 'C', 'D'] as const;
const letterPosition = (extracted: string | null) => {
  const index = letters.indexOf(
    (extracted ?? '')
      .trim()
      .replace(/^\(|\)$/g, '')
      .toUpperCase() as (typeof letters)[number],
  );
  return index < 0 ? undefined : index;
};

// ---------------------------------------------------------------- GPQA-Diamond

const GpqaRowSchema = z
  .object({
    Question: z.string().min(1),
    'Correct Answer': z.string().min(1),
    'Incorrect Answer 1': z.string().min(1),
    'Incorrect Answer 2': z.string().min(1),
    'Incorrect Answer 3': z.string().min(1),
    'Record ID': z.string().min(1),
    'High-level domain': z.string().optional(),
    Subdomain: z.string().optional(),
  })
  .loose();

/**
 * The option order of one GPQA question. `paper`: evalchemy's fresh `random.Random(42)` per question (every gold
 * lands on D); `per-item`: `Random(seed + index)`; `none`: correct answer first.
 */
export function gpqaOptions(
  row: { correct: string; incorrect: readonly string[] },
  shuffle: 'paper' | 'per-item' | 'none',
  index: number,
  seed = 0,
): { options: string[]; goldIndex: number } {
  const options = [row.correct, ...row.incorrect];
  if (shuffle !== 'none') new PythonRandom(shuffle === 'paper' ? 42 : seed + index).shuffle(options);
  return { options, goldIndex: options.indexOf(row.correct) };
}

/** evalchemy GPQADiamond user turn. */
export function gpqaPrompt(question: string, options: readonly string[]): string {
  const listed = options.map((option, index) => `${letters[index]}) ${option}`).join(', ');
  return `Return your final response within \\boxed{} and only include the letter choice (A, B, C, or D) as your final response.\nProblem: ${question}\nOptions: ${listed}\nAnswer:`;
}

/** GPQA-Diamond (evalchemy; 3 samples at T=0.7; the paper's shuffle puts every gold answer at D). */
export const gpqaDiamond = defineBenchmark({
  id: 'gpqa-diamond',
  title: 'GPQA-Diamond',
  group: 'other',
  kind: 'generative',
  promptVersion: 'evalchemy-v1',
  protocol:
    'options shuffled by Random(42) per question; last standalone A-D of the upper-cased output; accuracy',
  sources: [
    {
      id: 'local',
      description: 'evalchemy gpqa_diamond.csv (80 columns, header)',
      files: ['gpqa-diamond/gpqa_diamond.csv'],
    },
  ],
  decoding: {
    sampling: { temperature: 0.7, maxTokens: 32768, seed: 0 },
    samples: 3,
    seedPerSample: 'run-seed-plus-index',
  },
  scorers: { primary: gpqaLetterScorer, extra: [] },
  metrics: ['accuracy', 'truncated'],
  multipleChoice: {
    labels: letters,
    goldPosition: (item) => letters.indexOf(String(item.target) as (typeof letters)[number]),
    predictedPosition: letterPosition,
  },
  async load(options: LoadOptions = {}) {
    const shuffle = (options.variant ?? 'paper') as 'paper' | 'per-item' | 'none';
    if (!['paper', 'per-item', 'none'].includes(shuffle)) {
      throw new ValidationError({
        field: 'variant',
        message: `GPQA shuffle must be paper, per-item or none (got ${shuffle})`,
      });
    }
    const records = await readLocalRecords(options, 'gpqa-diamond', ['gpqa_diamond.csv'], (text, file) =>
      parseCsvRecords(text, GpqaRowSchema, file),
    );
    return applyLimit(
      records.map(({ value }, index): BenchmarkItem => {
        const { options: choices, goldIndex } = gpqaOptions(
          {
            correct: value['Correct Answer'],
            incorrect: [
              value['Incorrect Answer 1'],
              value['Incorrect Answer 2'],
              value['Incorrect Answer 3'],
            ],
          },
          shuffle,
          index,
          options.seed,
        );
        return {
          id: value['Record ID'],
          benchmark: 'gpqa-diamond',
          input: { question: value.Question },
          target: letters[goldIndex],
          choices,
          meta: { domain: value['High-level domain'] ?? null, subdomain: value.Subdomain ?? null, shuffle },
        };
      }),
      options.limit,
    );
  },
  prompt(item) {
    return [{ role: 'user', content: gpqaPrompt(String(item.input.question), item.choices ?? []) }];
  },
  aggregate: accuracyMetrics,
});

// ---------------------------------------------------------------- ACPBench

const acpTasks = ['act_reach', 'app', 'just', 'land', 'prog', 'reach', 'val'] as const;
const acpTestNames: Record<(typeof acpTasks)[number], string> = {
  act_reach: 'areach',
  app: 'app',
  just: 'just',
  land: 'land',
  prog: 'prog',
  reach: 'reach',
  val: 'val',
};

const AcpRecordSchema = z.object({
  id: z.string().min(1),
  group: z.string().min(1),
  context: z.string(),
  question: z.string().min(1),
  choices: z.object({ text: z.array(z.string()).length(4), label: z.array(z.string()).length(4) }),
  query: z.string().optional(),
  answer: z.enum(['A', 'B', 'C', 'D']),
});

const AcpFewShotSchema = z.record(
  z.string(),
  z.object({
    task: z.string(),
    fewshot_samples: z
      .array(z.object({ context: z.string(), question: z.string(), answer: z.string() }))
      .min(2),
  }),
);

/** ACPBench ids are 64-bit integers; quote them before JSON.parse so none loses precision. */
function quoteLargeIds(text: string): string {
  return text.replace(/("id"\s*:\s*)(-?\d+)/g, '$1"$2"');
}

/** lm-eval `doc_to_text` of the ACPBench MCQ CoT tasks (two spaces between context and question). */
export function acpQuestionText(context: string, question: string): string {
  return `**Question**: ${context}  ${question} **Thoughts**:`;
}

const fewShotCache = new Map<string, z.infer<typeof AcpFewShotSchema>>();

/** ACPBench MCQ, 2-shot CoT (lm-eval `acp_mcq_cot_2shot`, dev split of 7 × 40 questions). */
export const acpBench = defineBenchmark({
  id: 'acpbench',
  title: 'ACPBench',
  group: 'other',
  kind: 'generative',
  promptVersion: 'lm-eval-mcq-cot-2shot-v1',
  protocol:
    '2-shot CoT in one user turn; multi_choice_regex group_select -1; exact_match ignore case/punctuation',
  sources: [
    {
      id: 'local',
      description: 'dev split (the paper): mcq_dev/<task>.json',
      files: acpTasks.map((task) => `acpbench/mcq_dev/${task}.json`),
    },
    {
      id: 'local-test',
      description: 'official test split (split "test")',
      files: acpTasks.map((task) => `acpbench/mcq_test/${acpTestNames[task]}.json`),
    },
  ],
  decoding: {
    sampling: {
      temperature: 0,
      maxTokens: 32768,
      stop: ['\n\n\n\n', '**Question**:', '**Question:**', 'Q:'],
    },
    samples: 1,
    seedPerSample: 'fixed',
  },
  scorers: { primary: acpMultiChoiceScorer, extra: [] },
  metrics: ['accuracy', ...acpTasks.map((task) => `accuracy_${task}`), 'truncated'],
  multipleChoice: {
    labels: letters,
    goldPosition: (item) => letters.indexOf(String(item.target) as (typeof letters)[number]),
    predictedPosition: letterPosition,
  },
  async load(options: LoadOptions = {}) {
    const split = options.split ?? 'dev';
    const dataDir = options.files === undefined ? requireDataDir(options.dataDir) : undefined;
    const fewShotFile =
      dataDir === undefined ? undefined : join(dataDir, 'acpbench', 'fewshot_mcq_cot_2shot.json');
    let fewShot: z.infer<typeof AcpFewShotSchema> | undefined;
    if (fewShotFile !== undefined) {
      fewShot = fewShotCache.get(fewShotFile);
      if (fewShot === undefined) {
        fewShot = parseWith(
          AcpFewShotSchema,
          parseJson(await readTextFile(fewShotFile), { file: fewShotFile }),
          {
            file: fewShotFile,
            code: 'INVALID_DATA_FILE',
          },
        );
        fewShotCache.set(fewShotFile, fewShot);
      }
    }
    const items: BenchmarkItem[] = [];
    for (const task of acpTasks) {
      const name = split === 'test' ? acpTestNames[task] : task;
      const folder = split === 'test' ? 'mcq_test' : 'mcq_dev';
      const files = options.files?.filter(
        (file) => file.endsWith(`/${name}.json`) || file.endsWith(`\\${name}.json`),
      );
      if (options.files !== undefined && files?.length === 0) continue;
      const records = await readLocalRecords(
        { ...options, ...(files === undefined ? {} : { files }) },
        join('acpbench', folder),
        [`${name}.json`],
        (text, file) => parseJsonArray(quoteLargeIds(text), AcpRecordSchema, file),
      );
      const shots = fewShot?.[task]?.fewshot_samples.slice(0, 2) ?? [];
      for (const { value } of records) {
        items.push({
          id: `${task}/${value.id}`,
          benchmark: 'acpbench',
          input: { context: value.context, question: value.question, task, shots },
          target: value.answer,
          choices: value.choices.text,
          meta: { task, group: value.group, split },
        });
      }
    }
    return applyLimit(items, options.limit);
  },
  prompt(item) {
    const shots = (item.input.shots ?? []) as { context: string; question: string; answer: string }[];
    const examples = shots.map((shot) => `${acpQuestionText(shot.context, shot.question)} ${shot.answer}`);
    const content = [
      ...examples,
      acpQuestionText(String(item.input.context), String(item.input.question)),
    ].join('\n\n');
    return [{ role: 'user', content }];
  },
  aggregate(samples: readonly BenchmarkSample[]) {
    const metrics = accuracyMetrics(samples);
    for (const task of acpTasks) {
      const ofTask = samples.filter((sample) => sample.item.meta.task === task);
      if (ofTask.length > 0)
        metrics[`accuracy_${task}`] = meanOf(ofTask.map((sample) => sample.verdicts[0]?.correct ?? false));
    }
    return metrics;
  },
});

// ---------------------------------------------------------------- HeadQA

const HeadQaQuestionSchema = z.object({
  qid: z.union([z.string(), z.number()]).transform(String),
  qtext: z.string().min(1),
  ra: z
    .union([z.string(), z.number()])
    .transform((value) => Number(value))
    .pipe(z.number().int().positive()),
  answers: z.array(z.object({ aid: z.number().int(), atext: z.string() })).min(2),
  image: z.string().optional(),
});
const HeadQaFileSchema = z.object({
  exams: z.record(
    z.string(),
    z.object({
      name: z.string(),
      category: z.string().optional(),
      year: z.union([z.string(), z.number()]).optional(),
      data: z.array(z.unknown()),
    }),
  ),
});
const HeadQaHubRowSchema = HeadQaQuestionSchema.extend({
  name: z.string(),
  category: z.string().optional(),
  year: z.union([z.string(), z.number()]).optional(),
});

function headQaItem(
  exam: string,
  question: z.infer<typeof HeadQaQuestionSchema>,
  where: { file: string; field: string },
): BenchmarkItem {
  const gold = question.ra - 1;
  if (question.answers[gold]?.aid !== question.ra) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      ...where,
      message: `ra ${question.ra} does not point at answers[${gold}] (lm-eval scores ra - 1 as the gold index)`,
    });
  }
  return {
    id: `${exam}/${question.qid}`,
    benchmark: 'headqa',
    input: { qtext: question.qtext },
    target: gold,
    choices: question.answers.map((answer) => answer.atext),
    meta: { exam, hasImage: (question.image ?? '') !== '' },
  };
}

/** Log-likelihood continuations: lm-eval's target delimiter (a space) before each choice. */
const spaceContinuations = (item: BenchmarkItem) => (item.choices ?? []).map((choice) => ` ${choice}`);

function loglikelihoodMetrics(samples: readonly BenchmarkSample[]): Record<string, number> {
  return {
    acc: meanOf(samples.map((sample) => sample.verdicts[0]?.correct ?? false)),
    acc_norm: meanOf(samples.map((sample) => sample.verdicts[0]?.details.accNorm === true)),
  };
}

/** HEAD-QA English (lm-eval `headqa_en`): log-likelihood multiple choice, `acc` and `acc_norm`. */
export const headQa = defineBenchmark({
  id: 'headqa',
  title: 'HeadQA',
  group: 'other',
  kind: 'loglikelihood',
  promptVersion: 'lm-eval-headqa-en-v1',
  protocol: 'Question: {qtext}\\nAnswer: + " " choice; acc (sum logprob) and acc_norm (per character)',
  sources: [
    {
      id: 'local',
      description: 'HEAD_EN test_HEAD_EN.json (split "dev": dev_HEAD_EN.json)',
      files: ['headqa/test_HEAD_EN.json'],
    },
    {
      id: 'hub',
      description: 'EleutherAI/headqa en test (parquet)',
      hub: [{ repo: 'EleutherAI/headqa', revision: 'refs/convert/parquet', path: 'en/test/0000.parquet' }],
    },
  ],
  decoding: { sampling: { temperature: 0, maxTokens: 1 }, samples: 1, seedPerSample: 'fixed' },
  scorers: { primary: loglikelihoodScorer, extra: [] },
  metrics: ['acc', 'acc_norm'],
  multipleChoice: {
    labels: ['1', '2', '3', '4'],
    goldPosition: (item) => Number(item.target),
    predictedPosition: (extracted) => (extracted === null ? undefined : Number(extracted)),
  },
  async load(options: LoadOptions = {}) {
    if (options.source === 'hub') {
      const rows = await readHubRecords(options, headQa.sources[1]!.hub!, HeadQaHubRowSchema);
      return applyLimit(
        rows.map(({ value, file, line }) => headQaItem(value.name, value, { file, field: `row ${line}` })),
        options.limit,
      );
    }
    const name = options.split === 'dev' ? 'dev_HEAD_EN.json' : 'test_HEAD_EN.json';
    const items: BenchmarkItem[] = [];
    const documents = await readLocalRecords(options, 'headqa', [name], (text, file) => {
      return [
        {
          value: parseWith(HeadQaFileSchema, parseJson(text, { file }), { file, code: 'INVALID_DATA_FILE' }),
          line: 1,
        },
      ];
    });
    for (const { value, file } of documents) {
      for (const [exam, content] of Object.entries(value.exams)) {
        content.data.forEach((raw, index) => {
          const field = `exams.${exam}.data[${index}]`;
          const question = parseWith(HeadQaQuestionSchema, raw, { file, field, code: 'INVALID_DATA_FILE' });
          items.push(headQaItem(exam, question, { file, field }));
        });
      }
    }
    return applyLimit(items, options.limit);
  },
  prompt(item) {
    return [{ role: 'user', content: `Question: ${String(item.input.qtext)}\nAnswer:` }];
  },
  continuations: spaceContinuations,
  aggregate: loglikelihoodMetrics,
});

// ---------------------------------------------------------------- MC-TACO

const mcTacoCategories = [
  'Event Duration',
  'Event Ordering',
  'Frequency',
  'Typical Time',
  'Stationarity',
] as const;
const McTacoRowSchema = z.tuple([
  z.string().min(1),
  z.string().min(1),
  z.string(),
  z.enum(['yes', 'no']),
  z.string().min(1),
]);
const McTacoHubRowSchema = z.object({
  sentence: z.string(),
  question: z.string(),
  answer: z.string(),
  label: z.union([z.literal(0), z.literal(1)]),
  category: z.union([z.number().int(), z.string()]),
});

function mcTacoItem(
  index: number,
  sentence: string,
  question: string,
  answer: string,
  label: number,
  category: string,
): BenchmarkItem {
  return {
    id: String(index),
    benchmark: 'mc-taco',
    input: { sentence, question, answer },
    target: label,
    choices: ['no', 'yes'],
    meta: { category },
  };
}

/** MC-TACO (lm-eval `mc_taco`): one log-likelihood yes/no item per TSV row; `acc` and binary `f1`. */
export const mcTaco = defineBenchmark({
  id: 'mc-taco',
  title: 'MC-TACO',
  group: 'non',
  kind: 'loglikelihood',
  promptVersion: 'lm-eval-mc-taco-v1',
  protocol:
    '{sentence}\\nQuestion: {question}\\nAnswer: {answer}\\nPlausible: + " no"/" yes"; acc and f1 (yes positive)',
  sources: [
    {
      id: 'local',
      description: 'CogComp/MCTACO test_9442.tsv (split "dev": dev_3783.tsv)',
      files: ['mc-taco/test_9442.tsv'],
    },
    {
      id: 'hub',
      description: 'CogComp/mc_taco test (parquet)',
      hub: [
        { repo: 'CogComp/mc_taco', revision: 'refs/convert/parquet', path: 'plain_text/test/0000.parquet' },
      ],
    },
  ],
  decoding: { sampling: { temperature: 0, maxTokens: 1 }, samples: 1, seedPerSample: 'fixed' },
  scorers: { primary: loglikelihoodScorer, extra: [] },
  metrics: ['acc', 'f1', 'acc_norm'],
  multipleChoice: {
    labels: ['no', 'yes'],
    goldPosition: (item) => Number(item.target),
    predictedPosition: (extracted) => (extracted === null ? undefined : Number(extracted)),
  },
  async load(options: LoadOptions = {}) {
    if (options.source === 'hub') {
      const rows = await readHubRecords(options, mcTaco.sources[1]!.hub!, McTacoHubRowSchema);
      return applyLimit(
        rows.map(({ value }, index) =>
          mcTacoItem(
            index,
            value.sentence,
            value.question,
            value.answer,
            value.label,
            typeof value.category === 'number'
              ? (mcTacoCategories[value.category] ?? String(value.category))
              : value.category,
          ),
        ),
        options.limit,
      );
    }
    const name = options.split === 'dev' ? 'dev_3783.tsv' : 'test_9442.tsv';
    const rows = await readLocalRecords(options, 'mc-taco', [name], (text, file) =>
      parseTsvRecords(text, McTacoRowSchema, file),
    );
    return applyLimit(
      rows.map(({ value }, index) =>
        mcTacoItem(index, value[0], value[1], value[2], value[3] === 'yes' ? 1 : 0, value[4]),
      ),
      options.limit,
    );
  },
  prompt(item) {
    const { sentence, question, answer } = item.input as {
      sentence: string;
      question: string;
      answer: string;
    };
    return [{ role: 'user', content: `${sentence}\nQuestion: ${question}\nAnswer: ${answer}\nPlausible:` }];
  },
  continuations: spaceContinuations,
  aggregate(samples) {
    return {
      ...loglikelihoodMetrics(samples),
      f1: binaryF1(
        samples.map((sample) => ({
          gold: Number(sample.item.target),
          predicted: Number(sample.verdicts[0]?.extracted ?? -1),
        })),
      ),
    };
  },
});
