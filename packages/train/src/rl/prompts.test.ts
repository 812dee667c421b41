import { describe, expect, it } from 'vitest';
import { extractGroundTruth, parseRlPromptsJsonl, RL_PROMPT_SUFFIX } from './prompts.js';

describe('RL prompts', () => {
  it('extract the first boxed answer with commas removed, as the released script does', () => {
    expect(extractGroundTruth('So the total is \\boxed{1,234} and not \\boxed{7}')).toBe('1234');
    // The released regex stops at the first closing brace: nested braces are cut, faithfully.
    expect(extractGroundTruth('\\boxed{\\frac{1}{2}}')).toBe('\\frac{1');
    expect(extractGroundTruth('  42 ')).toBe('42');
  });

  it('build the paper prompt and name the line of a bad record', () => {
    const text = [
      '{"question":"1+1?","golden_answer":"\\\\boxed{2}","data_source":"math"}',
      '',
      '{"question":""}',
    ].join('\n');
    expect(() => parseRlPromptsJsonl(text, 'rl.jsonl')).toThrowError(/rl\.jsonl, line 3, field 'question'/);
    const [prompt] = parseRlPromptsJsonl(text.split('\n')[0]!, 'rl.jsonl');
    expect(prompt).toEqual({
      id: '0',
      question: '1+1?',
      prompt: `1+1?${RL_PROMPT_SUFFIX}`,
      groundTruth: '2',
      dataSource: 'math',
    });
  });
});
