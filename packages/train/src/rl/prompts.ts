import { parseJson, ValidationError } from '@xfer/core';
import { z } from 'zod';

/** The paper's RL prompt suffix (train/to_parquet.py in the released code). */
export const RL_PROMPT_SUFFIX = " Let's think step by step and output the final answer in the \\boxed{}.";

export interface RlPrompt {
  id: string;
  /** The user turn: question + suffix (rendered through the chat template by the driver). */
  prompt: string;
  question: string;
  groundTruth: string;
  dataSource: string;
}

/**
 * Ground truth as the released script extracts it: the contents of the first `\boxed{…}` of the golden
 * answer (regex `\\boxed\{([^}]+)\}`, so no nested braces), commas removed; otherwise the cleaned text.
 */
export function extractGroundTruth(goldenAnswer: string): string {
  const match = /\\boxed\{([^}]+)\}/.exec(goldenAnswer);
  const answer = match ? match[1]! : goldenAnswer.trim();
  return answer.replaceAll(',', '').trim();
}

/** A record of the hub's `ReasoningTransferability/math_rl_48k` (fields question, golden_answer, data_source). */
export const MathRlRecordSchema = z.object({
  question: z.string().min(1),
  golden_answer: z.union([z.string(), z.number()]).transform(String),
  data_source: z.string().optional(),
  id: z.union([z.string(), z.number()]).optional(),
});

export function toRlPrompt(record: z.output<typeof MathRlRecordSchema>, index: number): RlPrompt {
  return {
    id: record.id === undefined ? String(index) : String(record.id),
    question: record.question,
    prompt: `${record.question}${RL_PROMPT_SUFFIX}`,
    groundTruth: extractGroundTruth(record.golden_answer),
    dataSource: record.data_source ?? 'math_rl_48k',
  };
}

/** Parse a JSONL file in the math_rl_48k format; a bad record names the file and line. */
export function parseRlPromptsJsonl(text: string, file: string): RlPrompt[] {
  const prompts: RlPrompt[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    const value = parseJson(line, { file, line: index + 1 });
    const parsed = MathRlRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError({
        file,
        line: index + 1,
        ...(issue?.path.length ? { field: issue.path.join('.') } : {}),
        message: issue?.message ?? 'invalid record',
        code: 'INVALID_DATA_FILE',
      });
    }
    prompts.push(toRlPrompt(parsed.data, prompts.length));
  }
  return prompts;
}
