import { parseJson, parseWith } from '@xfer/core';
import { z } from 'zod';
import { buildInstruction, type InstructionCheck } from './instructions.js';
import { pythonStrip } from './text-utilities.js';

/** One line of Google's `input_data.jsonl` (and of the HF `google/IFEval` train split). */
export const IfevalRecordSchema = z
  .object({
    key: z.number().int(),
    prompt: z.string(),
    instruction_id_list: z.array(z.string().min(1)).min(1),
    kwargs: z.array(z.record(z.string(), z.unknown()).nullable()),
  })
  .refine((record) => record.kwargs.length === record.instruction_id_list.length, {
    message: 'kwargs must have one entry per instruction id',
    path: ['kwargs'],
  });
export type IfevalRecord = z.infer<typeof IfevalRecordSchema>;

/** Where a record came from, for error messages. */
export interface RecordSource {
  file?: string;
  line?: number;
}

/** A record with every instruction's checker built once (so scoring many responses costs no rebuilding). */
export interface CompiledIfevalRecord {
  record: IfevalRecord;
  checks: InstructionCheck[];
}

/**
 * Validate a record and build its checkers; a bad record or an unknown instruction id throws a ValidationError
 * naming file, line and field.
 */
export function compileIfevalRecord(value: unknown, source: RecordSource = {}): CompiledIfevalRecord {
  const record = parseWith(IfevalRecordSchema, value, source);
  const checks = record.instruction_id_list.map((id, index) =>
    buildInstruction(id, record.kwargs[index], record.prompt, {
      ...source,
      field: `kwargs[${index}]`,
      instructionField: `instruction_id_list[${index}]`,
    }),
  );
  return { record, checks };
}

/** Parse a JSONL text of IFEval records (blank lines skipped); errors name `file` and the 1-based line. */
export function parseIfevalJsonl(text: string, file?: string): CompiledIfevalRecord[] {
  const compiled: CompiledIfevalRecord[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const where = { ...(file === undefined ? {} : { file }), line: index + 1 };
    compiled.push(compileIfevalRecord(parseJson(line, where), where));
  }
  return compiled;
}

/**
 * Remove reasoning as the paper's lm-eval fork did: `re.sub(r".*?</think>(\\n)*", "", text, flags=DOTALL)`
 * then `.strip()`. The pattern's `(\\n)*` is a literal backslash-n, and `re.sub` replaces every match, so all
 * text up to the last `</think>` goes.
 */
export function stripThinking(completion: string): string {
  return pythonStrip(completion.replace(/[\s\S]*?<\/think>(?:\\n)*/gu, ''));
}

/** The eight response variants of the loose check, in the reference's order. */
export function looseVariants(response: string): string[] {
  const lines = response.split('\n');
  const removeFirst = pythonStrip(lines.slice(1).join('\n'));
  const removeLast = pythonStrip(lines.slice(0, -1).join('\n'));
  const removeBoth = pythonStrip(lines.slice(1, -1).join('\n'));
  const withoutStars = (text: string) => text.replaceAll('*', '');
  return [
    response,
    withoutStars(response),
    removeFirst,
    removeLast,
    removeBoth,
    withoutStars(removeFirst),
    withoutStars(removeLast),
    withoutStars(removeBoth),
  ];
}

/** The strict and loose verdicts of one response. */
export interface IfevalResult {
  key: number;
  instructionIds: string[];
  /** Per instruction, strict. */
  strict: boolean[];
  /** Per instruction, loose (any of the eight variants passes). */
  loose: boolean[];
  promptStrict: boolean;
  promptLoose: boolean;
}

/** Check one (already thinking-stripped) response against a compiled record, strict and loose. */
export function evaluateIfevalResponse(compiled: CompiledIfevalRecord, response: string): IfevalResult {
  const variants = looseVariants(response);
  const strict = compiled.checks.map((check) => pythonStrip(response) !== '' && check(response));
  const loose = compiled.checks.map((check) =>
    variants.some((variant) => pythonStrip(variant) !== '' && check(variant)),
  );
  return {
    key: compiled.record.key,
    instructionIds: compiled.record.instruction_id_list,
    strict,
    loose,
    promptStrict: strict.every(Boolean),
    promptLoose: loose.every(Boolean),
  };
}

/** lm-eval's four IFEval metrics. Prompt-level: mean over prompts; instruction-level: mean over instructions. */
export interface IfevalMetrics {
  prompt_level_strict_acc: number;
  inst_level_strict_acc: number;
  prompt_level_loose_acc: number;
  inst_level_loose_acc: number;
  prompts: number;
  instructions: number;
}

/** Aggregate per-response results into the four metrics (all 0 for an empty list). */
export function aggregateIfeval(results: readonly IfevalResult[]): IfevalMetrics {
  const mean = (values: readonly boolean[]) =>
    values.length === 0 ? 0 : values.filter(Boolean).length / values.length;
  const strictInstructions = results.flatMap((result) => result.strict);
  const looseInstructions = results.flatMap((result) => result.loose);
  return {
    prompt_level_strict_acc: mean(results.map((result) => result.promptStrict)),
    inst_level_strict_acc: mean(strictInstructions),
    prompt_level_loose_acc: mean(results.map((result) => result.promptLoose)),
    inst_level_loose_acc: mean(looseInstructions),
    prompts: results.length,
    instructions: strictInstructions.length,
  };
}
