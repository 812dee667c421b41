import { type BenchmarkItem, parseJson, parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';
import { requireDataDir } from '../data/data-dir.js';
import { PythonRandom } from '../data/python-random.js';
import { parseJsonLines, readTextFile } from '../data/read-records.js';
import {
  accuracyMetrics,
  applyLimit,
  type BenchmarkSample,
  defineBenchmark,
  type LoadOptions,
  meanOf,
} from '../registry/benchmark.js';
import { coqaScorer } from '../scorers/coqa.js';
import { haluevalYesNoScorer, haluevalYesNoStrippedScorer } from '../scorers/halueval.js';
import { ifevalItemFromRecord, ifevalScorer, parseIfevalJsonl } from '../scorers/ifeval/index.js';
import { liveCodeBenchScorer } from '../scorers/livecodebench/index.js';
import { readHubRecords, readLocalRecords, type SourcedRecord } from './load-helpers.js';

// ---------------------------------------------------------------- CoQA

const CoqaOfficialStorySchema = z.object({
  id: z.string().min(1),
  source: z.string().optional(),
  story: z.string().min(1),
  questions: z.array(z.object({ input_text: z.string(), turn_id: z.number().int() })).min(1),
  answers: z.array(z.object({ input_text: z.string(), turn_id: z.number().int() }).loose()).min(1),
  additional_answers: z.record(z.string(), z.array(z.object({ input_text: z.string() }).loose())).optional(),
});
const CoqaOfficialFileSchema = z.object({ version: z.string().optional(), data: z.array(z.unknown()) });
/** The `EleutherAI/coqa` row layout: parallel lists. */
const CoqaListRowSchema = z.object({
  id: z.string().optional(),
  source: z.string().optional(),
  story: z.string().min(1),
  questions: z.object({ input_text: z.array(z.string()).min(1) }).loose(),
  answers: z.object({ input_text: z.array(z.string()).min(1) }).loose(),
  additional_answers: z.record(z.string(), z.object({ input_text: z.array(z.string()) }).loose()).nullish(),
});

interface CoqaStory {
  id: string;
  source: string | undefined;
  story: string;
  questions: string[];
  answers: string[];
  additional: string[][];
}

/** lm-eval `doc_to_target`: the last turn's gold plus alternative answers not already present (case-insensitive). */
export function coqaGolds(story: CoqaStory): string[] {
  const turn = story.questions.length - 1;
  const golds = [story.answers[turn] ?? ''];
  for (const alternatives of story.additional) {
    const candidate = alternatives[turn];
    if (candidate !== undefined && !golds.some((gold) => gold.toLowerCase() === candidate.toLowerCase()))
      golds.push(candidate);
  }
  return golds;
}

function coqaItem(story: CoqaStory, where: { file: string; field: string }): BenchmarkItem {
  if (story.answers.length < story.questions.length) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      ...where,
      message: `${story.questions.length} questions but ${story.answers.length} answers`,
    });
  }
  return {
    id: story.id,
    benchmark: 'coqa',
    input: {
      story: story.story,
      questions: story.questions,
      answers: story.answers.slice(0, story.questions.length - 1),
    },
    target: coqaGolds(story),
    meta: { source: story.source ?? null, turns: story.questions.length },
  };
}

/** lm-eval CoQA `doc_to_text`: story, every earlier turn with its gold answer, the last question, `A:`. */
export function coqaPrompt(story: string, questions: readonly string[], answers: readonly string[]): string {
  let text = `${story}\n\n`;
  questions.forEach((question, index) => {
    const answer = answers[index];
    text += `Q: ${question}\n\n${answer === undefined ? 'A:' : `A: ${answer}\n\n`}`;
  });
  return text;
}

/** CoQA (lm-eval `coqa`, dev = 500 stories, last turn of each): SQuAD EM and F1. */
export const coqa = defineBenchmark({
  id: 'coqa',
  title: 'CoQA',
  group: 'non',
  kind: 'generative',
  promptVersion: 'lm-eval-coqa-v1',
  protocol: 'strip to </think>, first line; SQuAD em/f1 with leave-one-out over golds',
  sources: [
    {
      id: 'local',
      description: 'official coqa-dev-v1.0.json ({version, data: [story]})',
      files: ['coqa/coqa-dev-v1.0.json'],
    },
    {
      id: 'hub',
      description: 'EleutherAI/coqa validation (parquet, parallel lists)',
      hub: [
        {
          repo: 'EleutherAI/coqa',
          revision: 'refs/convert/parquet',
          path: 'default/validation/0000.parquet',
        },
      ],
    },
  ],
  decoding: {
    sampling: { temperature: 0, maxTokens: 32768, stop: ['\nQ:'] },
    samples: 1,
    seedPerSample: 'fixed',
  },
  scorers: { primary: coqaScorer, extra: [] },
  metrics: ['em', 'f1', 'truncated'],
  async load(options: LoadOptions = {}) {
    if (options.source === 'hub') {
      const rows = await readHubRecords(options, coqa.sources[1]!.hub!, CoqaListRowSchema);
      return applyLimit(
        rows.map(({ value, file, line }, index) =>
          coqaItem(fromListRow(value, index), { file, field: `row ${line}` }),
        ),
        options.limit,
      );
    }
    const files = options.files ?? [`${requireDataDir(options.dataDir)}/coqa/coqa-dev-v1.0.json`];
    const items: BenchmarkItem[] = [];
    for (const file of files) {
      const text = await readTextFile(file);
      if (file.endsWith('.jsonl')) {
        for (const { value, line } of parseJsonLines(text, CoqaListRowSchema, file))
          items.push(coqaItem(fromListRow(value, line - 1), { file, field: `line ${line}` }));
        continue;
      }
      const document = parseWith(
        CoqaOfficialFileSchema,
        parseJson(text, { file, code: 'INVALID_DATA_FILE' }),
        { file, code: 'INVALID_DATA_FILE' },
      );
      document.data.forEach((raw, index) => {
        const field = `data[${index}]`;
        const story = parseWith(CoqaOfficialStorySchema, raw, { file, field, code: 'INVALID_DATA_FILE' });
        const additional = Object.keys(story.additional_answers ?? {})
          .sort()
          .map((key) => story.additional_answers![key]!.map((answer) => answer.input_text));
        items.push(
          coqaItem(
            {
              id: story.id,
              source: story.source,
              story: story.story,
              questions: story.questions.map((question) => question.input_text),
              answers: story.answers.map((answer) => answer.input_text),
              additional,
            },
            { file, field },
          ),
        );
      });
    }
    return applyLimit(items, options.limit);
  },
  prompt(item) {
    const { story, questions, answers } = item.input as {
      story: string;
      questions: string[];
      answers: string[];
    };
    return [{ role: 'user', content: coqaPrompt(story, questions, answers) }];
  },
  aggregate(samples: readonly BenchmarkSample[]) {
    return {
      em: meanOf(samples.map((sample) => Number(sample.verdicts[0]?.details.em ?? 0))),
      f1: meanOf(samples.map((sample) => Number(sample.verdicts[0]?.details.f1 ?? 0))),
      truncated: meanOf(samples.map((sample) => sample.verdicts[0]?.details.truncated === true)),
    };
  },
});

function fromListRow(row: z.infer<typeof CoqaListRowSchema>, index: number): CoqaStory {
  return {
    id: row.id ?? String(index),
    source: row.source,
    story: row.story,
    questions: row.questions.input_text,
    answers: row.answers.input_text,
    additional: Object.keys(row.additional_answers ?? {})
      .sort()
      .map((key) => row.additional_answers![key]!.input_text),
  };
}

// ---------------------------------------------------------------- HaluEval

/**
 * The judge instructions. QA is the paper fork's text as PROVENANCE.md quotes it (stray `""` included). The fork's
 * dialogue and summarization texts are not in the data folder: they are built the same way (base instruction, the
 * first hallucination type of upstream HaluEval, the closing sentence) — a reconstruction, not a verified copy.
 * The `#Knowledge: ` tag without a closing `#` is lm-eval's, for QA and dialogue alike.
 */
const haluevalPreamble = {
  qa: 'I want you act as an answer judge. Given a question and an answer, your objective is to determine if the provided answer contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.\n\nYou are trying to determine if the answer misunderstands the question context and intention.\n\nYou should try your best to determine if the answer contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be "Yes" or "No"".',
  dialogue:
    'I want you act as a response judge. Given a dialogue history and a response, your objective is to determine if the provided response contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.\n\nYou are trying to determine if the true entity in the response is replaced with a highly similar entity.\n\nYou should try your best to determine if the response contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be "Yes" or "No"".',
  summarization:
    'I want you act as a summary judge. Given a document and a summary, your objective is to determine if the provided summary contains non-factual or hallucinated information. You SHOULD give your judgement based on the following hallucination types and the world knowledge.\n\nYou are trying to determine if the summary is factual but some information cannot be directly inferred or entailed from the document.\n\nYou should try your best to determine if the summary contains non-factual or hallucinated information according to the above hallucination types. The answer you give MUST be "Yes" or "No"".',
} as const;
type HaluevalTask = keyof typeof haluevalPreamble;

const HaluevalRecordSchema = z.union([
  z.object({
    knowledge: z.string(),
    question: z.string(),
    answer: z.string(),
    hallucination: z.enum(['yes', 'no']),
  }),
  z.object({
    knowledge: z.string(),
    question: z.string(),
    right_answer: z.string(),
    hallucinated_answer: z.string(),
  }),
  z.object({
    knowledge: z.string(),
    dialogue_history: z.string(),
    response: z.string(),
    hallucination: z.enum(['yes', 'no']),
  }),
  z.object({
    knowledge: z.string(),
    dialogue_history: z.string(),
    right_response: z.string(),
    hallucinated_response: z.string(),
  }),
  z.object({ document: z.string(), summary: z.string(), hallucination: z.enum(['yes', 'no']) }),
  z.object({ document: z.string(), right_summary: z.string(), hallucinated_summary: z.string() }),
]);
type HaluevalRecord = z.infer<typeof HaluevalRecordSchema>;

interface HaluevalDoc {
  task: HaluevalTask;
  fields: Record<string, string>;
  hallucination: 'yes' | 'no';
  variant: string;
}

/**
 * Expand a record into lm-eval docs. Sample-format records (`hallucination` given) map one to one. Original
 * two-answer records become both docs (`both`, default: the right answer with gold `no`, the hallucinated one with
 * gold `yes`) or one seeded coin flip per record (`coin`), as the HaluEval authors' `evaluate.py` did.
 */
export function haluevalDocs(
  record: HaluevalRecord,
  mode: 'both' | 'coin',
  random: PythonRandom,
): HaluevalDoc[] {
  const pick = (
    task: HaluevalTask,
    base: Record<string, string>,
    key: string,
    right: string,
    hallucinated: string,
  ) => {
    const docs: HaluevalDoc[] = [
      { task, fields: { ...base, [key]: right }, hallucination: 'no', variant: 'right' },
      { task, fields: { ...base, [key]: hallucinated }, hallucination: 'yes', variant: 'hallucinated' },
    ];
    return mode === 'both' ? docs : [docs[random.random() > 0.5 ? 1 : 0]!];
  };
  if ('hallucination' in record) {
    const { hallucination, ...fields } = record;
    const task: HaluevalTask =
      'question' in record ? 'qa' : 'dialogue_history' in record ? 'dialogue' : 'summarization';
    return [{ task, fields: fields as Record<string, string>, hallucination, variant: 'sample' }];
  }
  if ('right_answer' in record) {
    return pick(
      'qa',
      { knowledge: record.knowledge, question: record.question },
      'answer',
      record.right_answer,
      record.hallucinated_answer,
    );
  }
  if ('right_response' in record) {
    return pick(
      'dialogue',
      { knowledge: record.knowledge, dialogue_history: record.dialogue_history },
      'response',
      record.right_response,
      record.hallucinated_response,
    );
  }
  return pick(
    'summarization',
    { document: record.document },
    'summary',
    record.right_summary,
    record.hallucinated_summary,
  );
}

/** lm-eval HaluEval `doc_to_text` per subtask. */
export function haluevalPrompt(task: HaluevalTask, fields: Record<string, string>): string {
  const preamble = haluevalPreamble[task];
  if (task === 'qa') {
    return `${preamble}\n\n#Knowledge: ${fields.knowledge}\n#Question#: ${fields.question}\n#Answer#: ${fields.answer}\n#Your Judgement#:`;
  }
  if (task === 'dialogue') {
    return `${preamble}\n\n#Knowledge: ${fields.knowledge}\n#Dialogue History#: ${fields.dialogue_history}\n#Response#: ${fields.response}\n#Your Judgement#:`;
  }
  return `${preamble}\n\n#Document#: ${fields.document}\n#Summary#: ${fields.summary}\n#Your Judgement#:`;
}

/** HaluEval (lm-eval group `halueval`: qa, dialogue, summarization): Yes/No judgement, `acc`. */
export const haluEval = defineBenchmark({
  id: 'halueval',
  title: 'HaluEval',
  group: 'non',
  kind: 'generative',
  promptVersion: 'lm-eval-halueval-v1',
  protocol: 'first line; exactly one of Yes/No; acc vs hallucination; both answers of original records',
  sources: [
    {
      id: 'local',
      description: 'original QA format (qa_data.json lines); dialogue/summarization files via `files`',
      files: ['halueval/qa_data.first1000.jsonl'],
    },
    {
      id: 'hub',
      description: 'pminervini/HaluEval qa/dialogue/summarization samples (parquet)',
      hub: ['qa_samples', 'dialogue_samples', 'summarization_samples'].map((config) => ({
        repo: 'pminervini/HaluEval',
        revision: 'refs/convert/parquet',
        path: `${config}/data/0000.parquet`,
      })),
    },
  ],
  decoding: {
    sampling: { temperature: 0, maxTokens: 32768, stop: ['\n\n'] },
    samples: 1,
    seedPerSample: 'fixed',
  },
  scorers: { primary: haluevalYesNoScorer, extra: [haluevalYesNoStrippedScorer] },
  metrics: ['accuracy', 'accuracy_qa', 'accuracy_dialogue', 'accuracy_summarization', 'judged'],
  multipleChoice: {
    labels: ['no', 'yes'],
    goldPosition: (item) => (item.target === 'yes' ? 1 : 0),
    predictedPosition: (extracted) => (extracted === 'yes' ? 1 : extracted === 'no' ? 0 : undefined),
  },
  async load(options: LoadOptions = {}) {
    const mode = (options.variant ?? 'both') as 'both' | 'coin';
    if (mode !== 'both' && mode !== 'coin')
      throw new ValidationError({
        field: 'variant',
        message: `HaluEval variant must be both or coin (got ${mode})`,
      });
    const records: SourcedRecord<HaluevalRecord>[] =
      options.source === 'hub'
        ? await readHubRecords(options, haluEval.sources[1]!.hub!, HaluevalRecordSchema)
        : await readLocalRecords(options, 'halueval', ['qa_data.first1000.jsonl'], (text, file) =>
            parseJsonLines(text, HaluevalRecordSchema, file),
          );
    const random = new PythonRandom(options.seed ?? 0);
    const items: BenchmarkItem[] = [];
    const counters: Record<string, number> = {};
    for (const { value } of records) {
      for (const doc of haluevalDocs(value, mode, random)) {
        const index = (counters[`${doc.task}/${doc.variant}`] =
          (counters[`${doc.task}/${doc.variant}`] ?? -1) + 1);
        items.push({
          id: `${doc.task}/${doc.variant === 'sample' ? '' : `${doc.variant}/`}${index}`,
          benchmark: 'halueval',
          input: { task: doc.task, ...doc.fields },
          target: doc.hallucination,
          meta: { task: doc.task, variant: doc.variant },
        });
      }
    }
    return applyLimit(items, options.limit);
  },
  prompt(item) {
    const { task, ...fields } = item.input as { task: HaluevalTask } & Record<string, string>;
    return [{ role: 'user', content: haluevalPrompt(task, fields) }];
  },
  aggregate(samples) {
    const metrics = accuracyMetrics(samples);
    for (const task of ['qa', 'dialogue', 'summarization'] as const) {
      const ofTask = samples.filter((sample) => sample.item.meta.task === task);
      if (ofTask.length > 0)
        metrics[`accuracy_${task}`] = meanOf(ofTask.map((sample) => sample.verdicts[0]?.correct ?? false));
    }
    metrics.judged = meanOf(samples.map((sample) => sample.verdicts[0]?.details.judged === true));
    return metrics;
  },
});

// ---------------------------------------------------------------- IFEval

/** IFEval (lm-eval `ifeval`, 541 prompts): Google's 25 checkers, strict/loose × prompt/instruction level. */
export const ifEval = defineBenchmark({
  id: 'ifeval',
  title: 'IFEval',
  group: 'non',
  kind: 'generative',
  promptVersion: 'raw-prompt-v1',
  protocol: 'strip to last </think>; strict and loose checkers; prompt- and instruction-level accuracy',
  sources: [
    { id: 'local', description: 'Google input_data.jsonl', files: ['ifeval/input_data.jsonl'] },
    {
      id: 'hub',
      description: 'google/IFEval train',
      hub: [{ repo: 'google/IFEval', path: 'ifeval_input_data.jsonl' }],
    },
  ],
  decoding: { sampling: { temperature: 0, maxTokens: 32768 }, samples: 1, seedPerSample: 'fixed' },
  scorers: { primary: ifevalScorer, extra: [] },
  metrics: [
    'prompt_level_strict_acc',
    'inst_level_strict_acc',
    'prompt_level_loose_acc',
    'inst_level_loose_acc',
    'truncated',
  ],
  async load(options: LoadOptions = {}) {
    if (options.source === 'hub') {
      const rows = await readHubRecords(options, ifEval.sources[1]!.hub!, z.unknown());
      const text = rows.map((row) => JSON.stringify(row.value)).join('\n');
      return applyLimit(
        parseIfevalJsonl(text, rows[0]?.file).map((compiled) => ifevalItemFromRecord(compiled.record)),
        options.limit,
      );
    }
    const records = await readLocalRecords(options, 'ifeval', ['input_data.jsonl'], (text, file) =>
      parseIfevalJsonl(text, file).map((compiled, index) => ({ value: compiled.record, line: index + 1 })),
    );
    return applyLimit(
      records.map(({ value }) => ifevalItemFromRecord(value)),
      options.limit,
    );
  },
  prompt(item) {
    return [{ role: 'user', content: String(item.input.prompt) }];
  },
  aggregate(samples) {
    const details = samples.map((sample) => sample.verdicts[0]?.details ?? {});
    const instructions = (key: string) =>
      details.flatMap((detail) => (Array.isArray(detail[key]) ? (detail[key] as boolean[]) : []));
    return {
      prompt_level_strict_acc: meanOf(details.map((detail) => detail.promptLevelStrict === true)),
      inst_level_strict_acc: meanOf(instructions('instructionLevelStrict')),
      prompt_level_loose_acc: meanOf(details.map((detail) => detail.promptLevelLoose === true)),
      inst_level_loose_acc: meanOf(instructions('instructionLevelLoose')),
      truncated: meanOf(details.map((detail) => detail.truncated === true)),
    };
  },
});

// ---------------------------------------------------------------- LiveCodeBench

const LiveCodeBenchRecordSchema = z
  .object({
    question_title: z.string(),
    question_content: z.string().min(1),
    platform: z.string(),
    question_id: z.string().min(1),
    contest_id: z.string().optional(),
    contest_date: z.string(),
    starter_code: z.string().default(''),
    difficulty: z.enum(['easy', 'medium', 'hard']),
    public_test_cases: z.string().optional(),
    private_test_cases: z.string().optional(),
    metadata: z.string().optional(),
  })
  .loose();

const lcbStdinInstruction =
  'Generate an executable Python function generated from the given prompt. The function should take stdin as input and print the output. Simply call the function after the definition.';
const lcbFunctionalInstruction =
  'Generate an executable Python function generated from the given prompt. Return the function body without invoking it at the final solution.';

function isStdinProblem(record: z.infer<typeof LiveCodeBenchRecordSchema>): boolean {
  if (record.public_test_cases !== undefined) {
    const tests = parseJson(record.public_test_cases, { field: 'public_test_cases' });
    if (Array.isArray(tests))
      return tests.some((test) => (test as { testtype?: string })?.testtype === 'stdin');
  }
  return record.starter_code.trim() === '';
}

/** LiveCodeBench code generation (evalchemy, release_v2 for the paper): pass@1 over 3 samples at T=0.7. */
export const liveCodeBench = defineBenchmark({
  id: 'livecodebench',
  title: 'LiveCodeBench',
  group: 'other',
  kind: 'generative',
  promptVersion: 'evalchemy-lcb-v1',
  protocol: 'last fenced code block; all private tests must pass (6 s timeout); pass@1 averaged over repeats',
  sources: [
    {
      id: 'local',
      description: 'release_v5 statements only (no tests): problems_release_v5.jsonl',
      files: ['livecodebench/problems_release_v5.jsonl'],
    },
    {
      id: 'hub',
      description: 'livecodebench/code_generation_lite release_v2 (test.jsonl + test2.jsonl, with tests)',
      hub: [
        { repo: 'livecodebench/code_generation_lite', path: 'test.jsonl' },
        { repo: 'livecodebench/code_generation_lite', path: 'test2.jsonl' },
      ],
    },
  ],
  decoding: {
    sampling: { temperature: 0.7, maxTokens: 32768, seed: 0 },
    samples: 3,
    seedPerSample: 'run-seed-plus-index',
  },
  scorers: { primary: liveCodeBenchScorer, extra: [] },
  metrics: ['accuracy', 'accuracy_easy', 'accuracy_medium', 'accuracy_hard', 'truncated'],
  async load(options: LoadOptions = {}) {
    const records =
      options.source === 'hub'
        ? await readHubRecords(options, liveCodeBench.sources[1]!.hub!, LiveCodeBenchRecordSchema)
        : await readLocalRecords(options, 'livecodebench', ['problems_release_v5.jsonl'], (text, file) =>
            parseJsonLines(text, LiveCodeBenchRecordSchema, file),
          );
    return applyLimit(
      records.map(({ value }) => ({
        id: value.question_id,
        benchmark: 'livecodebench',
        input: {
          question_content: value.question_content,
          starter_code: value.starter_code,
          is_stdin: isStdinProblem(value),
        },
        target: {
          public_test_cases: value.public_test_cases ?? null,
          private_test_cases: value.private_test_cases ?? null,
          metadata: value.metadata ?? null,
        },
        meta: {
          platform: value.platform,
          difficulty: value.difficulty,
          contestDate: value.contest_date,
          title: value.question_title,
          hasTests: value.private_test_cases !== undefined,
        },
      })),
      options.limit,
    );
  },
  prompt(item) {
    const instruction = item.input.is_stdin === true ? lcbStdinInstruction : lcbFunctionalInstruction;
    return [{ role: 'user', content: `${instruction}${String(item.input.question_content)}` }];
  },
  aggregate(samples) {
    const metrics = accuracyMetrics(samples);
    for (const difficulty of ['easy', 'medium', 'hard'] as const) {
      const of = samples.filter((sample) => sample.item.meta.difficulty === difficulty);
      if (of.length > 0)
        metrics[`accuracy_${difficulty}`] = meanOf(of.map((sample) => sample.verdicts[0]?.correct ?? false));
    }
    return metrics;
  },
});
