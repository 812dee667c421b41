import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CorruptRowError,
  canonicalJson,
  EngineError,
  formatModelRef,
  parseJson,
  parseModelRef,
  parseWith,
  protocolJsonSchema,
  RequestFrameSchema,
  ResponseFrameSchema,
  SamplingParamsSchema,
  ValidationError,
  WorkerError,
  XferError,
} from './index.js';

describe('errors', () => {
  it('are recognised by marker, not instanceof, and keep stable codes', () => {
    const error = new ValidationError({
      file: 'a.jsonl',
      line: 3,
      field: 'answer',
      message: 'expected a string',
    });
    expect(error.message).toBe("a.jsonl, line 3, field 'answer': expected a string");
    expect(XferError.isInstance(error)).toBe(true);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect(WorkerError.isInstance(error)).toBe(false);
    expect(error.code).toBe('INVALID_INPUT');
    // A structurally identical object from another copy of the package carries the same global symbol.
    const foreign = Object.assign(Object.create(null), {
      [Symbol.for('xfer.error')]: true,
      code: 'INTERNAL',
    });
    expect(XferError.isInstance(foreign)).toBe(true);
    expect(XferError.isInstance(new Error('plain'))).toBe(false);
  });

  it('name table, column and row for corrupt rows', () => {
    const error = new CorruptRowError({
      table: 'samples',
      column: 'verdicts',
      rowId: 7,
      message: 'bad json',
    });
    expect(error.toWire()).toEqual({
      code: 'DB_CORRUPT_ROW',
      message: 'samples.verdicts (id 7): bad json',
      data: { table: 'samples', column: 'verdicts', rowId: 7 },
    });
  });

  it('engine errors name the engine and request', () => {
    const error = new EngineError({
      engine: 'openai',
      requestId: 'r1',
      message: 'HTTP 500',
      code: 'ENGINE_REQUEST_FAILED',
    });
    expect(error.message).toBe('openai (request r1): HTTP 500');
  });
});

describe('validation', () => {
  it('names the nested field that failed', () => {
    const schema = z.object({ items: z.array(z.object({ answer: z.string() })) });
    expect(() =>
      parseWith(schema, { items: [{ answer: 'x' }, { answer: 3 }] }, { file: 'f.json' }),
    ).toThrowError(/f\.json, field 'items\[1\]\.answer'/);
  });

  it('turns malformed JSON into a ValidationError with the line', () => {
    try {
      parseJson('{"a":', { file: 'x.jsonl', line: 9 });
      expect.unreachable();
    } catch (error) {
      expect(ValidationError.isInstance(error) && error.line).toBe(9);
    }
  });
});

describe('model references', () => {
  it.each([
    ['nano-base', { kind: 'nano', name: 'nano-base' }],
    ['nano:./ckpt/a', { kind: 'nano', path: './ckpt/a' }],
    ['Qwen/Qwen3-14B-Base', { kind: 'hf', id: 'Qwen/Qwen3-14B-Base' }],
    ['hf:Qwen/Qwen3-0.6B@main', { kind: 'hf', id: 'Qwen/Qwen3-0.6B', revision: 'main' }],
    ['/models/qwen', { kind: 'local', path: '/models/qwen' }],
  ])('parses %s', (text, expected) => {
    expect(parseModelRef(text)).toEqual(expected);
  });

  it('parses endpoints and round-trips them', () => {
    const ref = parseModelRef('http://127.0.0.1:8000/v1#qwen');
    expect(ref).toMatchObject({
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'qwen',
      api: 'chat',
    });
    expect(formatModelRef(ref)).toBe('openai:http://127.0.0.1:8000/v1#qwen');
  });

  it('rejects nonsense with a field name', () => {
    expect(() => parseModelRef('not a model!')).toThrowError(/field 'model'/);
    expect(() => parseModelRef('http://host/v1')).toThrowError(/<baseUrl>#<model>/);
  });
});

describe('sampling', () => {
  it('defaults to greedy and validates ranges', () => {
    expect(SamplingParamsSchema.parse({})).toMatchObject({ temperature: 0, topP: 1, topK: -1, seed: 0 });
    expect(SamplingParamsSchema.safeParse({ topP: 0 }).success).toBe(false);
  });
});

describe('worker protocol', () => {
  it('accepts well-formed frames and rejects unknown types', () => {
    const frame = RequestFrameSchema.parse({
      v: 1,
      id: 'r1',
      type: 'generate',
      params: { requests: [{ id: 'a', prompt: 'hi', sampling: {} }] },
    });
    expect(frame.type).toBe('generate');
    expect(RequestFrameSchema.safeParse({ v: 1, id: 'r', type: 'explode', params: {} }).success).toBe(false);
    expect(RequestFrameSchema.safeParse({ v: 2, id: 'r', type: 'shutdown', params: {} }).success).toBe(false);
    const error = ResponseFrameSchema.parse({
      v: 1,
      id: 'r1',
      type: 'error',
      error: { code: 'INTERNAL', message: 'boom' },
    });
    expect(error).toMatchObject({ type: 'error', error: { data: {} } });
  });

  it('exports JSON Schema for both directions', () => {
    const schema = protocolJsonSchema() as { request: { oneOf?: unknown[]; anyOf?: unknown[] } };
    const variants = schema.request.oneOf ?? schema.request.anyOf ?? [];
    expect(variants.length).toBe(RequestFrameSchema.options.length);
  });
});

describe('canonicalJson', () => {
  it('ignores key order and undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined }], c: 'z' } })).toBe(
      '{"a":{"c":"z","d":[1,{"y":2}]},"b":1}',
    );
  });
});
