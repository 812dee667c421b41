import { inflateSync } from 'node:zlib';
import { type BenchmarkItem, parseJson, parseWith, ValidationError } from '@xfer/core';
import { z } from 'zod';
import {
  functionNameFromStarterCode,
  type LiveCodeBenchTarget,
  LiveCodeBenchTargetSchema,
  LiveCodeBenchTestSchema,
} from './target.js';

/**
 * Read the one string a pickle holds, refusing every other opcode: LiveCodeBench's `private_test_cases` are
 * `base64(zlib(pickle(json_string)))`, and a pickle that builds anything but a string could run code in
 * Python. Supports protocols 2-5 (`BINUNICODE`, `SHORT_BINUNICODE`, `BINUNICODE8`, framing and memo opcodes).
 */
export function unpickleString(bytes: Uint8Array, where: { file?: string; field?: string } = {}): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let value: string | undefined;
  const fail = (message: string): never => {
    throw new ValidationError({ message: `restricted unpickler: ${message}`, ...where });
  };
  const take = (length: number): Buffer => {
    if (offset + length > view.length) fail('truncated pickle');
    const slice = view.subarray(offset, offset + length);
    offset += length;
    return slice;
  };
  while (offset < view.length) {
    const opcode = view[offset] ?? 0;
    offset += 1;
    switch (opcode) {
      case 0x80: // PROTO
        take(1);
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x8c: // SHORT_BINUNICODE
        value = take(take(1)[0] ?? 0).toString('utf8');
        break;
      case 0x58: // BINUNICODE
        value = take(take(4).readUInt32LE(0)).toString('utf8');
        break;
      case 0x8d: // BINUNICODE8
        value = take(Number(take(8).readBigUInt64LE(0))).toString('utf8');
        break;
      case 0x94: // MEMOIZE
        break;
      case 0x71: // BINPUT
        take(1);
        break;
      case 0x72: // LONG_BINPUT
        take(4);
        break;
      case 0x2e: // STOP
        if (value === undefined) fail('no string before STOP');
        return value as string;
      default:
        fail(`opcode 0x${opcode.toString(16)} is not allowed (only a single string may be unpickled)`);
    }
  }
  return fail('missing STOP');
}

const TestListSchema = z.array(LiveCodeBenchTestSchema);

/**
 * Decode a LiveCodeBench test-case field as `lcb_runner` does: JSON first, else
 * `json.loads(pickle.loads(zlib.decompress(base64.b64decode(text))))` (with the restricted unpickler).
 */
export function decodeTestCases(
  text: string,
  where: { file?: string; field?: string } = {},
): z.infer<typeof TestListSchema> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    let inflated: Buffer;
    try {
      inflated = inflateSync(Buffer.from(text, 'base64'));
    } catch (cause) {
      throw new ValidationError({
        message: 'test cases are neither JSON nor base64(zlib(pickle))',
        ...where,
        cause,
      });
    }
    value = parseJson(unpickleString(inflated, where), where);
  }
  return parseWith(TestListSchema, value, where);
}

const RawTargetSchema = z.object({
  public_test_cases: z.string().nullable().optional(),
  private_test_cases: z.string().nullable().optional(),
  metadata: z.string().nullable().optional(),
});

/**
 * The tests and call details of an item, from either a {@link LiveCodeBenchTarget} or the raw HF record fields
 * (`public_test_cases`, `private_test_cases`, `metadata` in `target`; `starter_code`, `is_stdin` in `input`).
 * As in the paper's harness, grading uses the private tests, `is_stdin` comes from the public tests, and the
 * function name from `metadata.func_name` (or the starter code).
 */
export function liveCodeBenchTargetFromItem(item: BenchmarkItem): LiveCodeBenchTarget {
  const where = { file: `item ${item.id}` };
  const direct = LiveCodeBenchTargetSchema.safeParse(item.target);
  if (direct.success) return direct.data;
  const raw = parseWith(RawTargetSchema, item.target, { ...where, field: 'target' });
  const publicTests = raw.public_test_cases
    ? decodeTestCases(raw.public_test_cases, { ...where, field: 'target.public_test_cases' })
    : [];
  const privateTests = raw.private_test_cases
    ? decodeTestCases(raw.private_test_cases, { ...where, field: 'target.private_test_cases' })
    : [];
  if (privateTests.length === 0) {
    throw new ValidationError({
      message: 'no private test cases to grade on (the local release_v5 file ships none)',
      ...where,
      field: 'target.private_test_cases',
    });
  }
  const starterCode = typeof item.input.starter_code === 'string' ? item.input.starter_code : '';
  const isStdin =
    publicTests.length > 0
      ? publicTests.some((test) => test.testtype === 'stdin')
      : typeof item.input.is_stdin === 'boolean'
        ? item.input.is_stdin
        : starterCode.trim() === '';
  let functionName: string | undefined;
  if (raw.metadata) {
    const metadata = parseJson(raw.metadata, { ...where, field: 'target.metadata' });
    if (
      typeof metadata === 'object' &&
      metadata !== null &&
      typeof (metadata as { func_name?: unknown }).func_name === 'string'
    ) {
      functionName = (metadata as { func_name: string }).func_name;
    }
  }
  functionName ??= functionNameFromStarterCode(starterCode);
  return { tests: privateTests, isStdin, starterCode, ...(functionName ? { functionName } : {}) };
}
