import type { LiveCodeBenchTest } from './target.js';

/**
 * The worked examples printed in a LiveCodeBench problem statement, as runnable tests. These are NOT the
 * benchmark's hidden tests (`private_test_cases`, which the paper graded on): use them for smoke checks and for
 * the problems of `problems_release_v5.jsonl`, which ships without tests.
 *
 * - AtCoder / Codeforces: `Sample Input N` ... `Sample Output N` blocks (stdin tests);
 * - LeetCode: `Input: a = 1, b = [2]` / `Output: 3` lines (call-based tests, one JSON value per argument).
 * Examples that cannot be parsed into JSON are skipped.
 */
export function examplesFromStatement(content: string, platform: string): LiveCodeBenchTest[] {
  return platform === 'leetcode' ? leetCodeExamples(content) : stdinSamples(content);
}

function stdinSamples(content: string): LiveCodeBenchTest[] {
  const text = content.replace(/\r\n?/g, '\n');
  const tests: LiveCodeBenchTest[] = [];
  // Input: everything up to its "Sample Output N"; output: the first paragraph after that header.
  const pattern =
    /Sample Input (\d+):?[ \t]*\n([\s\S]*?)\n\s*Sample Output \1:?[ \t]*\n\s*((?:[^\n]*\S[^\n]*(?:\n|$))+)/g;
  for (const match of text.matchAll(pattern)) {
    const input = tidyInput(match[2] ?? '');
    const output = (match[3] ?? '').replace(/\s+$/, '');
    if (output) tests.push({ input, output, testtype: 'stdin' });
  }
  return tests;
}

function tidyInput(block: string): string {
  // Codeforces statements in this file separate every input line with a blank one.
  const lines = block.replace(/^\n+|\s+$/g, '').split('\n');
  const doubled = lines.length > 2 && lines.every((line, index) => index % 2 === 0 || line.trim() === '');
  const kept = doubled ? lines.filter((_, index) => index % 2 === 0) : lines;
  return `${kept.join('\n')}\n`;
}

/** Split `a = 1, b = [2, 3], s = "x, y"` at the commas between arguments. */
function splitArguments(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let current = '';
  for (let index = 0; index < text.length; index += 1) {
    const character = text.charAt(index);
    if (inString) {
      current += character;
      if (character === '\\') {
        current += text.charAt(index + 1);
        index += 1;
      } else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') inString = true;
    if (character === '[' || character === '{') depth += 1;
    if (character === ']' || character === '}') depth -= 1;
    if (character === ',' && depth === 0 && /^\s*[A-Za-z_]\w*\s*=/.test(text.slice(index + 1))) {
      parts.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  parts.push(current);
  const values: string[] = [];
  for (const part of parts) {
    const match = /^\s*[A-Za-z_]\w*\s*=\s*([\s\S]+?)\s*$/.exec(part);
    if (!match?.[1]) return undefined;
    values.push(match[1]);
  }
  return values;
}

function asJson(value: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return undefined;
  }
}

function leetCodeExamples(content: string): LiveCodeBenchTest[] {
  const tests: LiveCodeBenchTest[] = [];
  const pattern = /Input:\s*([^\n]+)\n+\s*Output:\s*([^\n]+)/g;
  for (const match of content.matchAll(pattern)) {
    const argumentsText = splitArguments(match[1] ?? '');
    const output = asJson((match[2] ?? '').trim());
    if (!argumentsText || output === undefined) continue;
    const values = argumentsText.map(asJson);
    if (values.some((value) => value === undefined)) continue;
    tests.push({ input: values.join('\n'), output, testtype: 'functional' });
  }
  return tests;
}
