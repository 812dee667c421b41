/**
 * `pnpm bench:score`: how fast xfer scores a benchmark's worth of responses, next to the reference.
 * - MATH-500: 500 synthetic responses (gold boxed, reference solutions, perturbed answers, no box, reasoning
 *   prefixes), scored by xfer's Hendrycks grader and symbolic grader, and by the Python Hendrycks reference
 *   (`last_boxed_only_string` + `is_equiv` as evalchemy runs it, no reasoning strip; /usr/bin/python3) on the
 *   same responses. Prints the time ratio and how many verdicts agree.
 * - IFEval: 541 synthetic responses scored by the IFEval checkers (strict and loose). Google's reference
 *   needs nltk/langdetect, which are not installed here, so IFEval has no reference column.
 * Target: each benchmark under one second. The last line holds every figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  extractBoxedAnswer,
  ifEval,
  isEquivHendrycks,
  math500,
  PythonRandom,
  scoreResponses,
} from '@xfer/eval';

const random = new PythonRandom(20_260_523);
const pick = <T>(values: readonly T[]): T => values[random.randbelow(values.length)]!;

const mathItems = await math500.load();
const mathResponses = mathItems.map((item, index) => {
  const answer = String(item.target);
  const kind = index % 5;
  const reasoning = pick([
    '',
    '<think>\nLet me work this out step by step.\n</think>\n\n',
    'We compute carefully. ',
  ]);
  if (kind === 0) return `${reasoning}The final answer is $\\boxed{${answer}}$.`;
  if (kind === 1) return `${reasoning}${String(item.meta.solution)}`;
  if (kind === 2) return `${reasoning}Maybe \\boxed{${answer}} but actually \\boxed{${answer}1}`;
  if (kind === 3) return `${reasoning}I am not sure about ${answer}.`;
  return `${reasoning}So the answer is \\boxed{${answer.replace(/\\frac/g, '\\dfrac').replace(/ /g, '')}}`;
});
const mathText = mathResponses.map((response, index) => JSON.stringify({ id: index, response })).join('\n');

const ifevalItems = await ifEval.load();
const ifevalText = ifevalItems
  .map((item, index) => {
    const prompt = String(item.input.prompt);
    const style = index % 4;
    const response =
      style === 0
        ? prompt
        : style === 1
          ? `<think>planning</think>\n${prompt.toLowerCase()}`
          : style === 2
            ? `* ${prompt.split(/[.!?]/).join('\n* ')}\n\nP.S. done`
            : `"${prompt.toUpperCase().replace(/,/g, '')}"`;
    return JSON.stringify({ id: index, response });
  })
  .join('\n');

async function time<T>(run: () => Promise<T>, repeats = 5): Promise<{ result: T; milliseconds: number }> {
  let best = Number.POSITIVE_INFINITY;
  let result: T | undefined;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const started = performance.now();
    result = await run();
    best = Math.min(best, performance.now() - started);
  }
  return { result: result as T, milliseconds: best };
}

const math = await time(() =>
  scoreResponses({ benchmark: math500, items: mathItems, text: mathText, file: 'math.jsonl' }),
);
const mathHendrycksOnly = await time(() =>
  scoreResponses({
    benchmark: { ...math500, scorers: { primary: math500.scorers.primary, extra: [] } },
    items: mathItems,
    text: mathText,
    file: 'math.jsonl',
  }),
);
/** The bare reference operations (extract + is_equiv) on already-parsed responses, as the Python loop does. */
const golds = mathItems.map((item) => String(item.target));
const bareVerdicts: boolean[] = [];
const bare = await time(async () => {
  bareVerdicts.length = 0;
  for (let index = 0; index < mathResponses.length; index++) {
    const extracted = extractBoxedAnswer(mathResponses[index]!);
    bareVerdicts.push(extracted !== null && isEquivHendrycks(golds[index]!, extracted));
  }
  return bareVerdicts.length;
}, 20);
const ifeval = await time(
  () => scoreResponses({ benchmark: ifEval, items: ifevalItems, text: ifevalText, file: 'ifeval.jsonl' }),
  3,
);

const reference = fileURLToPath(
  new URL('../packages/eval/src/scorers/math/__fixtures__/hendrycks_reference.py', import.meta.url),
);
const directory = mkdtempSync(join(tmpdir(), 'xfer-bench-score-'));
let pythonMs = Number.NaN;
let agreement = 'n/a';
try {
  const input = join(directory, 'math.jsonl');
  writeFileSync(
    input,
    mathResponses
      .map((response, index) => JSON.stringify({ response, gold: String(mathItems[index]!.target) }))
      .join('\n'),
  );
  const python = spawnSync('/usr/bin/python3', [reference, 'bench', input], { encoding: 'utf8' });
  if (python.status === 0) {
    const parsed = JSON.parse(python.stdout) as { ms: number; verdicts: boolean[] };
    pythonMs = parsed.ms;
    const agree = parsed.verdicts.filter((verdict, index) => verdict === bareVerdicts[index]).length;
    agreement = `${agree}/${parsed.verdicts.length}`;
  } else {
    process.stderr.write(`python reference failed: ${python.stderr}\n`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const perSecond = (count: number, milliseconds: number) => Math.round((count * 1000) / milliseconds);
const rows = [
  ['MATH-500 (hendrycks + symbolic, xfer)', math.result.n, math.milliseconds],
  ['MATH-500 (hendrycks only, xfer)', mathHendrycksOnly.result.n, mathHendrycksOnly.milliseconds],
  ['MATH-500 (extract + is_equiv only, xfer)', bare.result, bare.milliseconds],
  ['MATH-500 (extract + is_equiv, Python reference)', mathResponses.length, pythonMs],
  ['IFEval (strict + loose, xfer)', ifeval.result.n, ifeval.milliseconds],
] as const;
for (const [name, count, milliseconds] of rows) {
  process.stdout.write(
    `${name.padEnd(50)} n=${String(count).padEnd(4)} ${milliseconds.toFixed(1).padStart(8)} ms  ${String(perSecond(count, milliseconds)).padStart(8)} items/s\n`,
  );
}
process.stdout.write(
  `MATH-500 accuracy on these responses: ${math.result.summary}\nIFEval: ${ifeval.result.summary}\n`,
);
process.stdout.write(
  `math500_ms=${math.milliseconds.toFixed(1)} math500_items_per_s=${perSecond(math.result.n, math.milliseconds)} math500_hendrycks_ms=${mathHendrycksOnly.milliseconds.toFixed(1)} python_reference_ms=${pythonMs.toFixed(1)} bare_ms=${bare.milliseconds.toFixed(2)} speedup_vs_python=${(pythonMs / bare.milliseconds).toFixed(2)} agreement=${agreement} ifeval_ms=${ifeval.milliseconds.toFixed(1)} ifeval_items_per_s=${perSecond(ifeval.result.n, ifeval.milliseconds)} under_1s=${math.milliseconds < 1000 && ifeval.milliseconds < 1000}\n`,
);
