import type { BenchmarkItem, ScoreResult, Verdict } from '@xfer/core';
import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { acpBench, gpqaDiamond, headQa, mcTaco } from '../benchmarks/choice-benchmarks.js';
import { haluEval } from '../benchmarks/text-benchmarks.js';
import { acpExactMatch, acpMultiChoiceScorer, extractAcpAnswer } from './acpbench.js';
import { coqaScorer, coqaScores, normalizeSquadAnswer, squadF1 } from './coqa.js';
import { extractGpqaLetter, gpqaLetterScorer } from './gpqa.js';
import { extractHaluevalJudgement, haluevalYesNoScorer, haluevalYesNoStrippedScorer } from './halueval.js';
import { binaryF1, loglikelihoodScorer } from './loglikelihood.js';
import { stripReasoning } from './thinking.js';

const item = (target: unknown, extra: Partial<BenchmarkItem> = {}): BenchmarkItem => ({
  id: 'x',
  benchmark: 'test',
  input: {},
  target,
  meta: {},
  ...extra,
});
const correct = (verdict: Verdict | Promise<Verdict>) => (verdict as Verdict).correct;

describe('reasoning strip', () => {
  it('removes everything up to the last </think> and the literal \\n quirk', () => {
    expect(stripReasoning('<think>a</think>b</think>\\n\\n answer ')).toMatchObject({
      text: 'answer',
      strippedThinking: true,
    });
    expect(stripReasoning('<think>never closed')).toMatchObject({
      unterminatedThinking: true,
      strippedThinking: false,
    });
    expect(stripReasoning('')).toMatchObject({ text: '', strippedThinking: false });
  });
});

describe('GPQA letter', () => {
  it('takes the last standalone letter of the upper-cased output', () => {
    expect(extractGpqaLetter('I think (a) or maybe b... final: \\boxed{C}')).toBe('C');
    expect(extractGpqaLetter('ABCD is not a letter')).toBe('A');
    expect(extractGpqaLetter('xyz.')).toBe('xyz');
    expect(extractGpqaLetter('Déjà vu: Ad')).toBe('Déjà vu: Ad'.trim());
    expect(extractGpqaLetter('answer: d.')).toBe('D');
    expect(extractGpqaLetter('...')).toBe('');
    expect(extractGpqaLetter('ÉA is a word, answer B')).toBe('B');
  });

  it('scores against the gold letter after stripping reasoning', () => {
    const verdict = gpqaLetterScorer.score({
      item: item('D'),
      completion: '<think>A? B?</think>The answer is \\boxed{D}',
    });
    expect(verdict).toMatchObject({ extracted: 'D', correct: true });
    expect(correct(gpqaLetterScorer.score({ item: item('D'), completion: '' }))).toBe(false);
  });

  it('real data: the paper shuffle lets a constant "D" score 100%, a per-item shuffle does not', async () => {
    const paper = await gpqaDiamond.load();
    expect(paper).toHaveLength(198);
    const constant = paper.filter((entry) =>
      correct(gpqaLetterScorer.score({ item: entry, completion: '\\boxed{D}' })),
    ).length;
    expect(constant).toBe(198);
    const perItem = await gpqaDiamond.load({ variant: 'per-item', seed: 7 });
    const constantPerItem = perItem.filter((entry) =>
      correct(gpqaLetterScorer.score({ item: entry, completion: '\\boxed{D}' })),
    ).length;
    expect(constantPerItem).toBeGreaterThan(20);
    expect(constantPerItem).toBeLessThan(80);
    // the gold text sits at the gold letter in both orders
    for (const entry of [paper[0]!, perItem[0]!]) {
      const goldIndex = 'ABCD'.indexOf(String(entry.target));
      expect(entry.choices?.[goldIndex]).toBeDefined();
    }
    expect(paper[0]!.choices?.[3]).toBe(perItem[0]!.choices?.['ABCD'.indexOf(String(perItem[0]!.target))]);
  });
});

describe('ACPBench multi_choice_regex', () => {
  it('follows the regex (last match) and the fallbacks', () => {
    expect(extractAcpAnswer('Step 1 ... **Final Answer**: B.')).toBe('B');
    expect(extractAcpAnswer('i pick c')).toBe('[invalid]');
    expect(extractAcpAnswer('the text says so')).toBe('(A)');
    expect(extractAcpAnswer('')).toBe('[invalid]');
    expect(extractAcpAnswer('A then later D')).toBe('D');
  });

  it('compares ignoring case and punctuation', () => {
    expect(acpExactMatch('(A)', 'A')).toBe(true);
    expect(acpExactMatch('b.', 'B')).toBe(true);
    expect(acpExactMatch('C', 'D')).toBe(false);
  });

  it('real data: gold-ending responses score 100%, and the few-shot rationales extract their own letter', async () => {
    const items = await acpBench.load();
    expect(items).toHaveLength(280);
    const accepted = items.filter((entry) =>
      correct(
        acpMultiChoiceScorer.score({
          item: entry,
          completion: `Let's think. **Final Answer**: ${String(entry.target)}.`,
        }),
      ),
    ).length;
    expect(accepted).toBe(280);
    const shots = items[0]!.input.shots as { answer: string }[];
    expect(shots).toHaveLength(2);
    for (const shot of shots) {
      const letter = /\*\*Final Answer\*\*: ([A-D])/.exec(shot.answer)?.[1];
      expect(extractAcpAnswer(shot.answer)).toBe(letter);
    }
  });
});

describe('HaluEval Yes/No', () => {
  it('reads only the first line and needs exactly one of Yes/No', () => {
    expect(extractHaluevalJudgement('Yes, it is hallucinated.\nNo wait')).toBe('yes');
    expect(extractHaluevalJudgement('No')).toBe('no');
    expect(extractHaluevalJudgement('Not sure')).toBe('no');
    expect(extractHaluevalJudgement('Yes and No')).toBeNull();
    expect(extractHaluevalJudgement('yes')).toBeNull();
    expect(extractHaluevalJudgement('')).toBeNull();
  });

  it('keeps the protocol (no strip) and reports the stripped variant beside it', () => {
    const completion = '<think>\nhmm\n</think>\n\nYes';
    expect(correct(haluevalYesNoScorer.score({ item: item('yes'), completion }))).toBe(false);
    expect(correct(haluevalYesNoStrippedScorer.score({ item: item('yes'), completion }))).toBe(true);
  });

  it('real data: both answers of each QA record, judged by gold', async () => {
    const items = await haluEval.load();
    expect(items).toHaveLength(2000);
    const accepted = items.filter((entry) =>
      correct(haluevalYesNoScorer.score({ item: entry, completion: entry.target === 'yes' ? 'Yes' : 'No' })),
    ).length;
    expect(accepted).toBe(2000);
    const coin = await haluEval.load({ variant: 'coin', seed: 3 });
    expect(coin).toHaveLength(1000);
    const hallucinated = coin.filter((entry) => entry.target === 'yes').length;
    expect(hallucinated).toBeGreaterThan(400);
    expect(hallucinated).toBeLessThan(600);
    expect((await haluEval.load({ variant: 'coin', seed: 3 })).map((entry) => entry.id)).toEqual(
      coin.map((entry) => entry.id),
    );
  });
});

describe('CoQA SQuAD metrics', () => {
  it('normalises like SQuAD', () => {
    expect(normalizeSquadAnswer('The  Cat, sat!')).toBe('cat sat');
    expect(squadF1('the cat sat', 'a cat stood')).toBeCloseTo(0.5);
    expect(squadF1('', '')).toBe(1);
    expect(squadF1('x', '')).toBe(0);
  });

  it('averages leave-one-out maxima over several golds', () => {
    expect(coqaScores(['white', 'white', 'pale white'], 'white')).toEqual({ em: 1, f1: 1 });
    const scores = coqaScores(['red', 'blue'], 'red');
    expect(scores.em).toBeCloseTo(0.5);
  });

  it('keeps only the first line after the reasoning', () => {
    const verdict = coqaScorer.score({
      item: item(['in the park']),
      completion: '<think>x</think>\n\nIn the park.\nQ: next',
    });
    expect(verdict).toMatchObject({ extracted: 'In the park.', correct: true, score: 1 });
  });
});

describe('log-likelihood multiple choice', () => {
  const result = (logprobs: number[]): ScoreResult => ({
    id: 'r',
    tokenIds: logprobs.map((_, index) => index),
    tokens: logprobs.map(() => 't'),
    logprobs,
    ranks: logprobs.map(() => 1),
    isGreedy: logprobs.map(() => true),
  });

  it('acc uses summed log-likelihood, acc_norm divides by character length', () => {
    const scored = item(1, { choices: ['a', 'a much longer answer'] });
    const verdict = loglikelihoodScorer.score({
      item: scored,
      choices: [result([-2]), result([-1, -1, -1])],
    });
    expect(verdict.extracted).toBe('0');
    expect(verdict.correct).toBe(false);
    expect(verdict.details).toMatchObject({ accNorm: true, predictedNorm: 1 });
  });

  it('rejects a choice count mismatch', () => {
    expect(() =>
      loglikelihoodScorer.score({ item: item(0, { choices: ['a', 'b'] }), choices: [result([-1])] }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }));
    try {
      loglikelihoodScorer.score({ item: item(0, { choices: ['a'] }), choices: [] });
    } catch (error) {
      expect(ValidationError.isInstance(error)).toBe(true);
    }
  });

  it('binary F1 with yes as positive', () => {
    expect(
      binaryF1([
        { gold: 1, predicted: 1 },
        { gold: 0, predicted: 1 },
        { gold: 1, predicted: 0 },
      ]),
    ).toBeCloseTo(0.5);
    expect(binaryF1([{ gold: 0, predicted: 0 }])).toBe(0);
  });

  it('real data: HeadQA and MC-TACO gold indices and continuations', async () => {
    const head = await headQa.load();
    expect(head).toHaveLength(2742);
    const first = head[0]!;
    expect(headQa.continuations?.(first)).toEqual(first.choices?.map((choice) => ` ${choice}`));
    const goldWins = head.filter((entry) => {
      const choices = (entry.choices ?? []).map((_, index) => result([index === entry.target ? -0.1 : -5]));
      return loglikelihoodScorer.score({ item: entry, choices }).correct;
    }).length;
    expect(goldWins).toBe(2742);
    const taco = await mcTaco.load();
    expect(taco).toHaveLength(9442);
    expect(taco.filter((entry) => entry.target === 1)).toHaveLength(3198);
    const samples = taco.map((entry) => ({
      item: entry,
      sampleIndex: 0,
      verdicts: [loglikelihoodScorer.score({ item: entry, choices: [result([-1]), result([-2])] })],
    }));
    expect(mcTaco.aggregate(samples)).toMatchObject({ acc: 6244 / 9442, f1: 0 });
  });
});

describe('adversarial responses for every generative scorer', () => {
  const huge = `${'Σ naïve 中文 {[( '.repeat(60_000)}\n`;
  const cases: [string, () => unknown][] = [
    ['gpqa', () => extractGpqaLetter(`${huge}final: B`)],
    ['acp', () => extractAcpAnswer(`${huge}**Final Answer**: C.`)],
    ['halueval', () => extractHaluevalJudgement(`No ${huge}`)],
    ['coqa', () => coqaScores(['naïve'], `${huge}`)],
  ];
  it.each(cases)('%s handles a 1 MB unicode response quickly', (_name, run) => {
    const started = performance.now();
    expect(run).not.toThrow();
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('extract the right answers through the noise', () => {
    expect(extractGpqaLetter(`${huge}final: B`)).toBe('B');
    expect(extractAcpAnswer(`${huge}**Final Answer**: C.`)).toBe('C');
    expect(extractHaluevalJudgement(`No ${huge}`)).toBe('no');
    expect(normalizeSquadAnswer('Ünïcödé — the Answer')).toBe('ünïcödé — answer');
  });
});
