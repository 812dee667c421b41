import { afterEach, beforeEach } from 'vitest';

/** Tests stay quiet: any console output from code under test fails the test that caused it. */
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let calls: string[] = [];
const originals = new Map<string, (...args: unknown[]) => void>();

beforeEach(() => {
  calls = [];
  for (const method of methods) {
    originals.set(method, console[method]);
    console[method] = (...args: unknown[]) => {
      calls.push(`console.${method}: ${args.map(String).join(' ')}`);
    };
  }
});

afterEach(() => {
  for (const method of methods) console[method] = originals.get(method) as (typeof console)[typeof method];
  if (calls.length > 0) throw new Error(`unexpected console output:\n${calls.join('\n')}`);
});
