import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { math500 } from '@xfer/eval';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'xfer-score-cli-'));

function xfer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@xfer/source', 'packages/cli/src/bin.ts', ...args],
    {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('xfer score', () => {
  it('re-scores a MATH-500 responses file: verdict lines out, the summary as the last line', async () => {
    const items = await math500.load({ limit: 4 });
    const responses = join(directory, 'responses.jsonl');
    const out = join(directory, 'verdicts.jsonl');
    writeFileSync(
      responses,
      [
        { id: items[0]!.id, response: `\\boxed{${String(items[0]!.target)}}` },
        { id: 1, response: '<think>long</think>\\boxed{wrong}' },
        { id: 2, response: `\\boxed{${String(items[2]!.target)}}`, finish_reason: 'length' },
      ]
        .map((row) => JSON.stringify(row))
        .join('\n'),
    );
    const result = await xfer(['score', '--benchmark', 'math-500', '--responses', responses, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(
      'accuracy=0.6667 n=3 math-symbolic_accuracy=0.6667 truncated=0.3333 disagreements=0',
    );
    const verdicts = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      verdicts.map((verdict) => [verdict.id, verdict.extracted, verdict.correct, verdict.grader]),
    ).toEqual([
      [items[0]!.id, String(items[0]!.target), true, 'math-hendrycks'],
      [items[1]!.id, 'wrong', false, 'math-hendrycks'],
      [items[2]!.id, String(items[2]!.target), true, 'math-hendrycks'],
    ]);
  });

  it('exits non-zero naming the line of a bad input', async () => {
    const responses = join(directory, 'bad.jsonl');
    writeFileSync(responses, '{"id": 0, "response": "x"}\n{"id": "no-such-item", "response": "y"}\n');
    const result = await xfer(['score', '--benchmark', 'math-500', '--responses', responses]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      `xfer: error INVALID_MODEL_OUTPUT: ${responses}, line 2, field 'id': no math-500 item with id or index "no-such-item" (500 items loaded)`,
    );
  });
});
