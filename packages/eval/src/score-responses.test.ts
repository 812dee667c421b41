import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { gpqaDiamond, headQa } from './benchmarks/choice-benchmarks.js';
import { math500 } from './benchmarks/math.js';
import { scoreResponses } from './score-responses.js';

const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join('\n');

describe('scoreResponses', () => {
  it('scores MATH-500 responses by id or index with both graders side by side and audits them', async () => {
    const items = await math500.load({ limit: 5 });
    const text = jsonl([
      { id: items[0]!.id, response: `\\boxed{${String(items[0]!.target)}}` },
      { id: 1, response: `<think>x</think>\\boxed{${String(items[1]!.target)}}`, finish_reason: 'length' },
      { id: '2', response: 'no box at all' },
      { id: 3, response: '' },
    ]);
    const result = await scoreResponses({ benchmark: math500, items, text, file: 'responses.jsonl' });
    expect(result.lines.map((line) => [line.id, line.correct, line.grader])).toEqual([
      [items[0]!.id, true, 'math-hendrycks'],
      [items[1]!.id, true, 'math-hendrycks'],
      [items[2]!.id, false, 'math-hendrycks'],
      [items[3]!.id, false, 'math-hendrycks'],
    ]);
    expect(result.lines[1]!.details.truncated).toBe(true);
    expect(result.lines[0]!.others).toEqual([
      { grader: 'math-symbolic', correct: true, extracted: String(items[0]!.target) },
    ]);
    expect(result.summary).toBe(
      'accuracy=0.5000 n=4 math-symbolic_accuracy=0.5000 truncated=0.2500 disagreements=0',
    );
  });

  it('lets --grader pick the primary', async () => {
    const items = await math500.load({ limit: 1 });
    const result = await scoreResponses({
      benchmark: math500,
      items,
      text: jsonl([{ id: 0, response: '\\boxed{x}' }]),
      file: 'r.jsonl',
      grader: 'math-symbolic',
    });
    expect(result.lines[0]!.grader).toBe('math-symbolic');
    await expect(
      scoreResponses({ benchmark: math500, items, text: '', file: 'r.jsonl', grader: 'nope' }),
    ).rejects.toThrowError(/has no grader "nope"; available: math-hendrycks, math-symbolic/);
  });

  it('reports the file, line and field of a bad line', async () => {
    const items = await math500.load({ limit: 2 });
    for (const [text, line, field] of [
      ['{"id":0,"response":"a"}\n{"id":9,"response":"b"}', 2, 'id'],
      ['{"id":0,"response":"a"}\n\n{"id":1}', 3, 'response'],
      ['{"id":0,"response":"a"}\n{broken', 2, undefined],
    ] as const) {
      const error = await scoreResponses({ benchmark: math500, items, text, file: 'r.jsonl' }).catch(
        (caught: unknown) => caught,
      );
      expect(ValidationError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ file: 'r.jsonl', line, field });
    }
  });

  it('flags the GPQA answer-position bias in the summary', async () => {
    const items = await gpqaDiamond.load();
    const text = jsonl(items.map((_, index) => ({ id: index, response: '\\boxed{D}' })));
    const result = await scoreResponses({ benchmark: gpqaDiamond, items, text, file: 'r.jsonl' });
    expect(result.summary).toBe('accuracy=1 n=198 truncated=0 gold_position_bias=D:1');
    expect(result.positionBias?.predictedCounts).toEqual([0, 0, 0, 198]);
  });

  it('scores log-likelihood benchmarks from per-choice log-likelihoods', async () => {
    const items = await headQa.load({ limit: 4 });
    const text = jsonl(
      items.map((item, index) => ({
        id: item.id,
        loglikelihoods: (item.choices ?? []).map((_, choice) =>
          choice === (index < 2 ? Number(item.target) : 0) ? -1 : -3,
        ),
      })),
    );
    const result = await scoreResponses({ benchmark: headQa, items, text, file: 'r.jsonl' });
    expect(result.n).toBe(4);
    expect(result.metrics.acc).toBe(result.accuracy);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.5);
    const bad = await scoreResponses({
      benchmark: headQa,
      items,
      text: jsonl([{ id: 0, loglikelihoods: [-1] }]),
      file: 'r.jsonl',
    }).catch((caught: unknown) => caught);
    expect(bad).toMatchObject({ line: 1, field: 'loglikelihoods' });
  });
});
