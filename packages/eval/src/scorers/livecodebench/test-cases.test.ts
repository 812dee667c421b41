import { ValidationError } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { decodeTestCases, liveCodeBenchTargetFromItem } from './test-cases.js';

// Made with Python: base64(zlib.compress(pickle.dumps(json.dumps(tests), protocol=N))).
const PICKLED_PROTOCOL_2 =
  'eJxrYIq4zsTAEF2tlJlXUFqiZKWgZBiTZ6Sko6CUX1oCFTEGcUtSi0tKKgtSQQJppXnJJZn5eYk5SrU6Ckh6Y5RiSg0MUi1jlFBNiFGqGEWjiAYIX9KMLWTQAwDcC+nI';
const PICKLED_PROTOCOL_4 =
  'eJxrYJl6j4kBDCKuAxnR1UqZeQWlJUpWCkqGMXlGSjoKSvmlJVARYxC3JLW4pKSyIBUkkFaal1ySmZ+XmKNUq6OApDdGKabUwCDVMkYJ1YQYpYpRNIpogPAlzdgpegA3D+ti';
// A short list: protocol 4 stores it with SHORT_BINUNICODE.
const PICKLED_SHORT = 'eJxrYJlqyQABPabR1UqZeQWlJUpWCkqmSjoKSvmlJVCuEZhfklpcUlJZkAoSKS5JycxTqo2dogcASt8S5Q==';
// pickle.dumps(collections.OrderedDict(a=1)): a pickle that builds an object, which must be refused.
const PICKLED_OBJECT = 'eJxrYJmqyQABPdzJ+Tk5qcklmfl5xVN6uP2LUlKLUlNcMpNLpkyeohk0pYcxcYo3Y7EeAJbuESY=';

const expectedTests = [
  { input: '1\n2', output: '3', testtype: 'functional' },
  { input: '"é"', output: `${'"x'.repeat(200)}"`, testtype: 'functional' },
];

describe('LiveCodeBench test-case decoding', () => {
  it('reads JSON and base64(zlib(pickle(json))) in pickle protocols 2 and 4', () => {
    expect(decodeTestCases(JSON.stringify(expectedTests))).toEqual(expectedTests);
    expect(decodeTestCases(PICKLED_PROTOCOL_2)).toEqual(expectedTests);
    expect(decodeTestCases(PICKLED_PROTOCOL_4)).toEqual(expectedTests);
    expect(decodeTestCases(PICKLED_SHORT)).toEqual([{ input: '5', output: '25', testtype: 'stdin' }]);
  });

  it('refuses a pickle that builds anything but a string', () => {
    let caught: unknown;
    try {
      decodeTestCases(PICKLED_OBJECT, { file: 'test.jsonl', field: 'private_test_cases' });
    } catch (error) {
      caught = error;
    }
    expect(ValidationError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/restricted unpickler: opcode 0x[0-9a-f]+ is not allowed/);
    expect((caught as ValidationError).field).toBe('private_test_cases');
  });

  it('builds a target from raw HF fields: private tests, stdin from public tests, func_name from metadata', () => {
    const target = liveCodeBenchTargetFromItem({
      id: '3312',
      benchmark: 'livecodebench',
      input: { starter_code: 'class Solution:\n    def other(self, s):\n        ', is_stdin: true },
      target: {
        public_test_cases: JSON.stringify([{ input: '"ab"', output: '1', testtype: 'functional' }]),
        private_test_cases: PICKLED_PROTOCOL_4,
        metadata: JSON.stringify({ func_name: 'countKeyChanges' }),
      },
      meta: {},
    });
    expect(target).toEqual({
      tests: expectedTests,
      isStdin: false,
      starterCode: 'class Solution:\n    def other(self, s):\n        ',
      functionName: 'countKeyChanges',
    });
  });

  it('names the item and field when there are no tests to grade on', () => {
    const item = {
      id: 'abc365_b',
      benchmark: 'livecodebench',
      input: {},
      target: { public_test_cases: null, private_test_cases: null, metadata: null },
      meta: {},
    };
    expect(() => liveCodeBenchTargetFromItem(item)).toThrowError(
      /item abc365_b, field 'target.private_test_cases'/,
    );
  });
});
