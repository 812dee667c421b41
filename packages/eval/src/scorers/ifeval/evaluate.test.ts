import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { requireDataDir } from '../../data/data-dir.js';
import {
  aggregateIfeval,
  compileIfevalRecord,
  evaluateIfevalResponse,
  type IfevalResult,
  looseVariants,
  parseIfevalJsonl,
  stripThinking,
} from './evaluate.js';
import { instructionIds } from './instructions.js';
import { IFEVAL_SCORER_VERSION, ifevalItemFromRecord, ifevalScorer } from './scorer.js';

const DATA_FILE = join(requireDataDir(), 'ifeval', 'input_data.jsonl');

describe('the real IFEval file', { timeout: 30_000 }, () => {
  const text = readFileSync(DATA_FILE, 'utf8');
  const records = parseIfevalJsonl(text, 'input_data.jsonl');

  it('loads all 541 prompts and 834 instructions, every id recognised', () => {
    expect(records).toHaveLength(541);
    const ids = records.flatMap((compiled) => compiled.record.instruction_id_list);
    expect(ids).toHaveLength(834);
    expect(new Set(ids)).toEqual(new Set(instructionIds));
  });

  it('fails every instruction on an empty response, strict and loose', () => {
    const metrics = aggregateIfeval(records.map((compiled) => evaluateIfevalResponse(compiled, '')));
    expect(metrics).toEqual({
      prompt_level_strict_acc: 0,
      inst_level_strict_acc: 0,
      prompt_level_loose_acc: 0,
      inst_level_loose_acc: 0,
      prompts: 541,
      instructions: 834,
    });
  });

  it('passes repeat_prompt with the real kwargs when the prompt is repeated first', () => {
    let checked = 0;
    for (const compiled of records) {
      compiled.record.instruction_id_list.forEach((id, index) => {
        if (id !== 'combination:repeat_prompt') return;
        const toRepeat = String(compiled.record.kwargs[index]?.prompt_to_repeat);
        const result = evaluateIfevalResponse(compiled, `${toRepeat}\nHere is my answer.`);
        expect(result.strict[index]).toBe(true);
        const wrong = evaluateIfevalResponse(compiled, `Sure! ${toRepeat}`);
        expect(wrong.strict[index]).toBe(false);
        checked += 1;
      });
    }
    expect(checked).toBe(41);
  });

  it('scores responses with a bare prompt echo as a mix of passes and failures', () => {
    const results = records.map((compiled) => evaluateIfevalResponse(compiled, compiled.record.prompt));
    const metrics = aggregateIfeval(results);
    expect(metrics.inst_level_strict_acc).toBeGreaterThan(0.1);
    expect(metrics.inst_level_strict_acc).toBeLessThan(0.9);
    expect(metrics.inst_level_loose_acc).toBeGreaterThanOrEqual(metrics.inst_level_strict_acc);
    expect(metrics.prompt_level_loose_acc).toBeGreaterThanOrEqual(metrics.prompt_level_strict_acc);
  });

  it('names file, line and field of a bad record', () => {
    const bad = `${text.split('\n')[0]}\n{"key": 5, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": []}\n`;
    expect(() => parseIfevalJsonl(bad, 'bad.jsonl')).toThrowError(/bad\.jsonl, line 2, field 'kwargs'/);
    try {
      parseIfevalJsonl(
        '{"key": 1, "prompt": "p", "instruction_id_list": ["x:y"], "kwargs": [{}]}',
        'ids.jsonl',
      );
    } catch (error) {
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as ValidationError).field).toBe('instruction_id_list[0]');
    }
    expect(() => parseIfevalJsonl('{"key": 1,', 'broken.jsonl')).toThrowError(/broken\.jsonl, line 1/);
  });
});

describe('thinking strip, loose variants and aggregation', () => {
  it('strips everything up to the last </think> and trims, as the paper fork did', () => {
    expect(stripThinking('<think>plan, plan</think>\n\n  Answer')).toBe('Answer');
    expect(stripThinking('a</think>b</think>\\n\\nc ')).toBe('c');
    expect(stripThinking('  no reasoning  ')).toBe('no reasoning');
  });

  it('builds the eight loose variants in the reference order', () => {
    expect(looseVariants('Sure:\n*"x"*\nBye')).toEqual([
      'Sure:\n*"x"*\nBye',
      'Sure:\n"x"\nBye',
      '*"x"*\nBye',
      'Sure:\n*"x"*',
      '*"x"*',
      '"x"\nBye',
      'Sure:\n"x"',
      '"x"',
    ]);
  });

  it('passes loose but not strict when only a chatty first line breaks the instruction', () => {
    const compiled = compileIfevalRecord({
      key: 1,
      prompt: 'Wrap your answer in double quotes and avoid commas.',
      instruction_id_list: ['startend:quotation', 'punctuation:no_comma'],
      kwargs: [{}, {}],
    });
    const result = evaluateIfevalResponse(compiled, 'Sure, here it is:\n"The answer is forty two."');
    expect(result.strict).toEqual([false, false]);
    expect(result.loose).toEqual([true, true]);
    expect(result.promptStrict).toBe(false);
    expect(result.promptLoose).toBe(true);
  });

  it('aggregates prompt-level over prompts and instruction-level over instructions', () => {
    const results: IfevalResult[] = [
      {
        key: 1,
        instructionIds: ['a', 'b', 'c'],
        strict: [true, false, true],
        loose: [true, true, true],
        promptStrict: false,
        promptLoose: true,
      },
      { key: 2, instructionIds: ['a'], strict: [true], loose: [true], promptStrict: true, promptLoose: true },
    ];
    expect(aggregateIfeval(results)).toEqual({
      prompt_level_strict_acc: 0.5,
      inst_level_strict_acc: 0.75,
      prompt_level_loose_acc: 1,
      inst_level_loose_acc: 1,
      prompts: 2,
      instructions: 4,
    });
  });

  it('scores a BenchmarkItem through the generative scorer, flagging truncation', async () => {
    const item = ifevalItemFromRecord({
      key: 9,
      prompt: 'Answer in lowercase without commas.',
      instruction_id_list: ['change_case:english_lowercase', 'punctuation:no_comma'],
      kwargs: [{}, {}],
    });
    const verdict = await ifevalScorer.score({
      item,
      completion:
        '<think>Let me think, carefully.</think>\nthe sky is blue because air scatters blue light more than red light.',
      finishReason: 'length',
    });
    expect(verdict).toMatchObject({
      grader: 'ifeval',
      graderVersion: IFEVAL_SCORER_VERSION,
      correct: true,
      score: 1,
      extracted: 'the sky is blue because air scatters blue light more than red light.',
      details: { instructionLevelStrict: [true, true], instructionLevelLoose: [true, true], truncated: true },
    });
    const failed = await ifevalScorer.score({ item, completion: 'The sky is blue, mostly.' });
    expect(failed.correct).toBe(false);
    expect(failed.details).toMatchObject({ instructionLevelStrict: [false, false], truncated: false });
  });
});
