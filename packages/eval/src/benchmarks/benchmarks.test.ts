import { fileURLToPath } from 'node:url';
import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { answerPositionBias } from '../analysis/position-bias.js';
import { benchmarkVersion, defineBenchmark } from '../registry/benchmark.js';
import { BenchmarkRegistry, createPaperRegistry, paperBenchmarks } from '../registry/registry.js';
import { acpBench, gpqaDiamond, headQa, mcTaco } from './choice-benchmarks.js';
import { math500 } from './math.js';
import { coqa, haluEval, ifEval, liveCodeBench } from './text-benchmarks.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('registry', () => {
  it('holds the paper 12 in their groups, each with a distinct version', () => {
    const registry = createPaperRegistry();
    expect(registry.list('math').map((benchmark) => benchmark.id)).toEqual([
      'math-500',
      'aime24',
      'aime25',
      'olympiadbench',
    ]);
    expect(registry.list('other').map((benchmark) => benchmark.id)).toEqual([
      'gpqa-diamond',
      'livecodebench',
      'acpbench',
      'headqa',
    ]);
    expect(registry.list('non').map((benchmark) => benchmark.id)).toEqual([
      'coqa',
      'ifeval',
      'halueval',
      'mc-taco',
    ]);
    const versions = paperBenchmarks.map((benchmark) => benchmark.version);
    expect(new Set(versions).size).toBe(12);
    for (const benchmark of paperBenchmarks)
      expect(benchmark.version).toMatch(new RegExp(`^${benchmark.id}@[0-9a-f]{12}$`));
  });

  it('rejects unknown and duplicate ids with typed errors', () => {
    const registry = new BenchmarkRegistry([math500]);
    expect(() => registry.get('nope')).toThrowError(/unknown benchmark "nope"; known: math-500/);
    expect(() => registry.register(math500)).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('the version moves with the prompt, the scorer version and the decoding', () => {
    const { version: _version, ...base } = math500;
    const spec = { ...base, promptVersion: 'evalchemy-v1', protocol: 'p' };
    const original = benchmarkVersion(spec);
    expect(benchmarkVersion({ ...spec, promptVersion: 'evalchemy-v2' })).not.toBe(original);
    expect(benchmarkVersion({ ...spec, decoding: { ...spec.decoding, samples: 2 } })).not.toBe(original);
    const bumped = { ...spec.scorers.primary, version: '2' };
    expect(benchmarkVersion({ ...spec, scorers: { primary: bumped, extra: spec.scorers.extra } })).not.toBe(
      original,
    );
    expect(defineBenchmark(spec).version).toBe(original);
  });
});

describe('prompts', () => {
  it('follow the protocol texts', async () => {
    const [first] = await math500.load({ limit: 1 });
    const content = math500.prompt(first!, { enableThinking: false })[0]!.content;
    expect(content.startsWith('Problem: Convert the point')).toBe(true);
    expect(content.endsWith('\nMark your solution with \\boxed\nAnswer:')).toBe(true);
    const [head] = await headQa.load({ limit: 1 });
    expect(headQa.prompt(head!, { enableThinking: false })[0]!.content).toBe(
      `Question: ${String(head!.input.qtext)}\nAnswer:`,
    );
    const [taco] = await mcTaco.load({ limit: 1 });
    expect(mcTaco.prompt(taco!, { enableThinking: false })[0]!.content).toMatch(
      /\nQuestion: .+\nAnswer: .+\nPlausible:$/,
    );
    expect(mcTaco.continuations?.(taco!)).toEqual([' no', ' yes']);
  });

  it('GPQA lists the options as "A) .., B) .." with the gold at its letter', async () => {
    const [gpqa] = await gpqaDiamond.load({ limit: 1 });
    const content = gpqaDiamond.prompt(gpqa!, { enableThinking: false })[0]!.content;
    expect(
      content.startsWith('Return your final response within \\boxed{} and only include the letter choice'),
    ).toBe(true);
    expect(content).toContain(`\nOptions: A) ${gpqa!.choices![0]}, B) ${gpqa!.choices![1]}, C) `);
    expect(content.endsWith('\nAnswer:')).toBe(true);
  });

  it('ACPBench is 2-shot CoT in one user turn, the shots before the question', async () => {
    const [first] = await acpBench.load({ limit: 1 });
    const messages = acpBench.prompt(first!, { enableThinking: false });
    expect(messages).toHaveLength(1);
    const blocks = messages[0]!.content.split('\n\n**Question**: ');
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/^\*\*Question\*\*: .+ \*\*Thoughts\*\*: Let's think step by step\./s);
    expect(blocks[1]).toMatch(/\*\*Final Answer\*\*: [A-D]\.$/);
    expect(blocks[2]).toBe(`${String(first!.input.context)}  ${String(first!.input.question)} **Thoughts**:`);
  });

  it('LiveCodeBench: stdin instruction without starter code, functional with it', async () => {
    const items = await liveCodeBench.load();
    expect(items).toHaveLength(880);
    const functional = items.find((item) => item.input.starter_code !== '')!;
    const stdin = items.find((item) => item.input.starter_code === '')!;
    expect(liveCodeBench.prompt(functional, { enableThinking: false })[0]!.content).toContain(
      'Return the function body without invoking it',
    );
    expect(liveCodeBench.prompt(stdin, { enableThinking: false })[0]!.content).toContain(
      'take stdin as input',
    );
    expect(liveCodeBench.scorers.primary.name).toBe('livecodebench');
    // the local release_v5 file has no tests: scoring says so with a typed error instead of guessing
    await expect(
      Promise.resolve().then(() =>
        liveCodeBench.scorers.primary.score({ item: stdin, completion: '```python\nprint(1)\n```' } as never),
      ),
    ).rejects.toThrowError(/no private test cases/);
  });
});

describe('CoQA official formats', () => {
  it('loads the official dev format: last turn, gold history, unique alternative answers', async () => {
    const items = await coqa.load({ files: [fixture('coqa-dev-mini.json')] });
    expect(items.map((item) => item.id)).toEqual(['story-1', 'story-2']);
    expect(items[0]!.target).toEqual(['in a barn', 'a barn near a farm house']);
    expect(coqa.prompt(items[0]!, { enableThinking: false })[0]!.content).toBe(
      'Once upon a time, in a barn near a farm house, there lived a little white kitten named Cotton.\n\nQ: What color was Cotton?\n\nA: white\n\nQ: Where did she live?\n\nA:',
    );
    expect(items[1]!.target).toEqual(['the library of the Holy See']);
  });

  it('loads the EleutherAI parallel-list rows', async () => {
    const [item] = await coqa.load({ files: [fixture('coqa-rows.jsonl')] });
    expect(item!.target).toEqual(['blue', 'light blue']);
    expect(
      coqa
        .prompt(item!, { enableThinking: false })[0]!
        .content.endsWith('A: a ball and a kite\n\nQ: What color was the kite?\n\nA:'),
    ).toBe(true);
  });

  it('names the file and field of a bad story', async () => {
    const error = await coqa.load({ files: [fixture('coqa-bad.json')] }).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).file).toBe(fixture('coqa-bad.json'));
    expect((error as ValidationError).field).toBe('data[1].questions[0].turn_id');
  });
});

describe('HaluEval formats', () => {
  it('expands original dialogue and summarization records into right and hallucinated docs', async () => {
    const items = await haluEval.load({
      files: [fixture('halueval-dialogue.jsonl'), fixture('halueval-summarization.jsonl')],
    });
    expect(items.map((item) => [item.id, item.target])).toEqual([
      ['dialogue/right/0', 'no'],
      ['dialogue/hallucinated/0', 'yes'],
      ['dialogue/right/1', 'no'],
      ['dialogue/hallucinated/1', 'yes'],
      ['summarization/right/0', 'no'],
      ['summarization/hallucinated/0', 'yes'],
    ]);
    const dialogue = haluEval.prompt(items[1]!, { enableThinking: false })[0]!.content;
    expect(dialogue.startsWith('I want you act as a response judge.')).toBe(true);
    expect(dialogue).toContain(
      '\n\n#Knowledge: The Dark Knight is directed by Christopher Nolan.\n#Dialogue History#: ',
    );
    expect(
      dialogue.endsWith(
        '#Dialogue History#: [Human]: Who directed The Dark Knight?\n#Response#: Steven Spielberg directed it.\n#Your Judgement#:',
      ),
    ).toBe(true);
    const summary = haluEval.prompt(items[4]!, { enableThinking: false })[0]!.content;
    expect(summary.endsWith('#Summary#: A chameleon was found in Marl Park.\n#Your Judgement#:')).toBe(true);
  });

  it('reads the qa prompt exactly as the protocol (with its stray quote)', async () => {
    const [first] = await haluEval.load({ limit: 1 });
    const content = haluEval.prompt(first!, { enableThinking: false })[0]!.content;
    expect(content).toContain('The answer you give MUST be "Yes" or "No"".\n\n#Knowledge: ');
    expect(content).toMatch(/\n#Question#: .+\n#Answer#: .+\n#Your Judgement#:$/);
  });

  it('names the line of a bad sample record', async () => {
    const error = await haluEval
      .load({ files: [fixture('halueval-samples.jsonl')] })
      .catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).line).toBe(3);
    expect((error as ValidationError).message).toContain('halueval-samples.jsonl');
  });
});

describe('answer-position bias on the real data', () => {
  it('flags GPQA as the paper shuffled it, and not after a per-item shuffle', async () => {
    const report = answerPositionBias(await gpqaDiamond.load(), gpqaDiamond.multipleChoice!);
    expect(report).toMatchObject({
      biased: true,
      majorityLabel: 'D',
      majorityShare: 1,
      goldCounts: [0, 0, 0, 198],
    });
    expect(report.message).toContain('always answering "D" scores 100.0%');
    const shuffled = answerPositionBias(
      await gpqaDiamond.load({ variant: 'per-item' }),
      gpqaDiamond.multipleChoice!,
    );
    expect(shuffled.biased).toBe(false);
  });

  it('finds ACPBench balanced and counts predicted positions', async () => {
    const items = await acpBench.load();
    const report = answerPositionBias(
      items,
      acpBench.multipleChoice!,
      items.map(() => 'B'),
    );
    expect(report.biased).toBe(false);
    expect(report.predictedCounts).toEqual([0, 280, 0, 0]);
  });

  it('IFEval loads all 541 prompts through the IFEval record validation', async () => {
    const items = await ifEval.load();
    expect(items).toHaveLength(541);
    expect(ifEval.prompt(items[0]!, { enableThinking: true })[0]!.content).toBe(
      String(items[0]!.input.prompt),
    );
  });
});
