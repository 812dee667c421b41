import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PythonRandom } from '../../data/python-random.js';
import { isEquivHendrycks, stripString } from './hendrycks.js';

const reference = fileURLToPath(new URL('./__fixtures__/hendrycks_reference.py', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'xfer-hendrycks-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const fragments = [
  '\\frac',
  '\\dfrac',
  '\\tfrac',
  '{',
  '}',
  '1',
  '2',
  '12',
  '0',
  '007',
  'x',
  'k',
  ' ',
  '.',
  '0.5',
  '\\sqrt',
  '\\left(',
  '\\right)',
  '^\\circ',
  '^{\\circ}',
  '\\$',
  '$',
  '\\%',
  '=',
  '/',
  '3/4',
  '\\text{ ',
  'cm}',
  '\\!',
  '\\\\',
  '\n',
  ',',
  '-',
  '\\pi',
  'a',
  'é',
  '∞',
];

/** Seeded random LaTeX-ish strings, plus light mutations of each, as [gold, predicted] pairs. */
function pairs(count: number): [string, string][] {
  const random = new PythonRandom(4242);
  const draw = () => {
    const length = 1 + random.randbelow(7);
    return Array.from({ length }, () => fragments[random.randbelow(fragments.length)]!).join('');
  };
  const mutate = (text: string) => {
    const choice = random.randbelow(4);
    if (choice === 0) return text.replaceAll('\\frac', '\\dfrac');
    if (choice === 1) return ` ${text} `;
    if (choice === 2) return `${text}\\!`;
    return draw();
  };
  return Array.from({ length: count }, () => {
    const gold = draw();
    return [gold, mutate(gold)];
  });
}

describe('the TypeScript Hendrycks port against the Python reference', () => {
  it('gives the same is_equiv verdict and strip_string output on 3000 random LaTeX pairs', () => {
    const cases = pairs(3000);
    const input = join(directory, 'pairs.jsonl');
    writeFileSync(input, cases.map((pair) => JSON.stringify(pair)).join('\n'));
    const python = spawnSync('/usr/bin/python3', [reference, 'pairs', input], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(python.status, python.stderr).toBe(0);
    const expected = JSON.parse(python.stdout) as [boolean, string | null][];
    const mismatches = cases.flatMap(([gold, predicted], index) => {
      let stripped: string | null;
      try {
        stripped = stripString(predicted);
      } catch {
        stripped = null;
      }
      const verdict = isEquivHendrycks(gold, predicted);
      const [pythonVerdict, pythonStripped] = expected[index]!;
      return verdict === pythonVerdict && stripped === pythonStripped
        ? []
        : [{ gold, predicted, verdict, pythonVerdict, stripped, pythonStripped }];
    });
    expect(mismatches).toEqual([]);
    expect(expected.filter(([verdict]) => verdict).length).toBeGreaterThan(300);
    // the raising paths (several `\text{ ` units, an empty `\sqrt`, a bare `\frac`) are exercised too
    expect(expected.filter(([, stripped]) => stripped === null).length).toBeGreaterThan(30);
  });
});
