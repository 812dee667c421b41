import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ValidationError, XferError } from '@xfer/core';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcTaco } from '../benchmarks/choice-benchmarks.js';
import { math500 } from '../benchmarks/math.js';
import { haluEval, ifEval, liveCodeBench } from '../benchmarks/text-benchmarks.js';
import { requireDataDir } from './data-dir.js';
import { downloadHubFile, hubFileUrl } from './hub.js';

/** A local server with the hub's URL layout: /datasets/<repo>/resolve/<revision>/<path>. */
let server: Server;
let endpoint: string;
let root: string;
let cacheDir: string;
const requests: { url: string; authorization: string | undefined }[] = [];

async function put(repo: string, revision: string, path: string, content: string | Uint8Array) {
  const file = join(root, 'datasets', repo, 'resolve', revision, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'xfer-hub-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'xfer-hub-cache-'));
  const dataDir = requireDataDir();
  const mathLines = (await readFile(join(dataDir, 'math-500', 'test.jsonl'), 'utf8'))
    .split('\n')
    .slice(0, 3)
    .join('\n');
  await put('HuggingFaceH4/MATH-500', 'main', 'test.jsonl', `${mathLines}\n`);
  const ifevalLines = (await readFile(join(dataDir, 'ifeval', 'input_data.jsonl'), 'utf8'))
    .split('\n')
    .slice(0, 4)
    .join('\n');
  await put('google/IFEval', 'main', 'ifeval_input_data.jsonl', ifevalLines);
  await put(
    'CogComp/mc_taco',
    'refs/convert/parquet',
    'plain_text/test/0000.parquet',
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'sentence', data: ['He slept.', 'She ran.'], type: 'STRING' },
          { name: 'question', data: ['How long?', 'How often?'], type: 'STRING' },
          { name: 'answer', data: ['8 hours', 'every century'], type: 'STRING' },
          { name: 'label', data: [1n, 0n], type: 'INT64' },
          { name: 'category', data: [0, 2], type: 'INT32' },
        ],
      }),
    ),
  );
  const haluevalParquet = (hallucination: string[]) =>
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'knowledge', data: hallucination.map((_, index) => `knowledge ${index}`), type: 'STRING' },
          { name: 'question', data: hallucination.map((_, index) => `question ${index}`), type: 'STRING' },
          { name: 'answer', data: hallucination.map((_, index) => `answer ${index}`), type: 'STRING' },
          { name: 'hallucination', data: hallucination, type: 'STRING' },
        ],
      }),
    );
  await put(
    'pminervini/HaluEval',
    'refs/convert/parquet',
    'qa_samples/data/0000.parquet',
    haluevalParquet(['yes', 'no']),
  );
  await put(
    'pminervini/HaluEval',
    'refs/convert/parquet',
    'dialogue_samples/data/0000.parquet',
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'knowledge', data: ['k'], type: 'STRING' },
          { name: 'dialogue_history', data: ['[Human]: hi'], type: 'STRING' },
          { name: 'response', data: ['hello'], type: 'STRING' },
          { name: 'hallucination', data: ['no'], type: 'STRING' },
        ],
      }),
    ),
  );
  await put(
    'pminervini/HaluEval',
    'refs/convert/parquet',
    'summarization_samples/data/0000.parquet',
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'document', data: ['d'], type: 'STRING' },
          { name: 'summary', data: ['s'], type: 'STRING' },
          { name: 'hallucination', data: ['perhaps'], type: 'STRING' },
        ],
      }),
    ),
  );
  const lcbProblem = (id: string, privateTests: { input: string; output: string }[]) =>
    JSON.stringify({
      question_title: `Problem ${id}`,
      question_content: 'Read two integers and print their sum.',
      platform: 'atcoder',
      question_id: id,
      contest_id: 'abc000',
      contest_date: '2023-08-01T00:00:00',
      starter_code: '',
      difficulty: 'easy',
      public_test_cases: JSON.stringify([{ input: '1 2\n', output: '3\n', testtype: 'stdin' }]),
      private_test_cases: JSON.stringify(privateTests.map((test) => ({ ...test, testtype: 'stdin' }))),
      metadata: '{}',
    });
  await put(
    'livecodebench/code_generation_lite',
    'main',
    'test.jsonl',
    `${lcbProblem('abc000_a', [{ input: '2 5\n', output: '7\n' }])}\n`,
  );
  await put(
    'livecodebench/code_generation_lite',
    'main',
    'test2.jsonl',
    `${lcbProblem('abc000_b', [{ input: '10 -3\n', output: '7\n' }])}\n`,
  );
  server = createServer(async (request, response) => {
    requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    try {
      const body = await readFile(join(root, path));
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end('Entry not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

describe('hub loader against a local server in the hub URL layout', () => {
  it('builds hub URLs with the revision encoded', () => {
    expect(
      hubFileUrl(
        { repo: 'EleutherAI/headqa', revision: 'refs/convert/parquet', path: 'en/test/0000.parquet' },
        'https://huggingface.co',
      ),
    ).toBe(
      'https://huggingface.co/datasets/EleutherAI/headqa/resolve/refs%2Fconvert%2Fparquet/en/test/0000.parquet',
    );
  });

  it('downloads once, then serves from the sha256-checked cache; a tampered cache is fetched again', async () => {
    const file = { repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl' };
    const options = { endpoint, cacheDir, token: 'secret-token' };
    const before = requests.length;
    const first = await downloadHubFile(file, options);
    expect(first.cached).toBe(false);
    expect(requests.at(-1)?.authorization).toBe('Bearer secret-token');
    const second = await downloadHubFile({ ...file, sha256: first.sha256 }, options);
    expect(second).toMatchObject({ cached: true, sha256: first.sha256, path: first.path });
    expect(requests.length).toBe(before + 1);
    await writeFile(first.path, 'tampered');
    const third = await downloadHubFile(file, options);
    expect(third).toMatchObject({ cached: false, sha256: first.sha256 });
    expect(requests.length).toBe(before + 2);
  });

  it('rejects a sha256 mismatch and reports a missing file', async () => {
    const wrong = await downloadHubFile(
      { repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl', sha256: '0'.repeat(64) },
      { endpoint, cacheDir: join(cacheDir, 'other') },
    ).catch((error: unknown) => error);
    expect(ValidationError.isInstance(wrong)).toBe(true);
    expect((wrong as Error).message).toContain('sha256 mismatch');
    const missing = await downloadHubFile(
      { repo: 'nobody/nothing', path: 'x.jsonl' },
      { endpoint, cacheDir },
    ).catch((error: unknown) => error);
    expect(XferError.hasCode(missing, 'NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toContain('404');
  });

  it('loads MATH-500 and IFEval (JSON Lines) from the hub like the local files', async () => {
    const hub = await math500.load({ source: 'hub', hub: { endpoint, cacheDir } });
    const local = await math500.load({ limit: 3 });
    expect(hub).toEqual(local);
    const ifeval = await ifEval.load({ source: 'hub', hub: { endpoint, cacheDir } });
    expect(ifeval.map((item) => item.id)).toEqual((await ifEval.load({ limit: 4 })).map((item) => item.id));
  });

  it('loads MC-TACO from parquet (int64 labels, category codes)', async () => {
    const items = await mcTaco.load({ source: 'hub', hub: { endpoint, cacheDir } });
    expect(items.map((item) => [item.target, item.meta.category, item.input.answer])).toEqual([
      [1, 'Event Duration', '8 hours'],
      [0, 'Frequency', 'every century'],
    ]);
  });

  it('loads LiveCodeBench with its tests and grades a program in the sandbox through the registry scorer', async () => {
    const items = await liveCodeBench.load({ source: 'hub', hub: { endpoint, cacheDir } });
    expect(items.map((item) => [item.id, item.input.is_stdin, item.meta.hasTests])).toEqual([
      ['abc000_a', true, true],
      ['abc000_b', true, true],
    ]);
    const program = '```python\na, b = map(int, input().split())\nprint(a + b)\n```';
    for (const item of items) {
      const verdict = await liveCodeBench.scorers.primary.score({ item, completion: program } as never);
      expect(verdict).toMatchObject({ correct: true, grader: 'livecodebench' });
    }
    const wrong = await liveCodeBench.scorers.primary.score({
      item: items[0]!,
      completion: '```python\nprint(0)\n```',
    } as never);
    expect(wrong.correct).toBe(false);
  });

  it('validates every parquet row and names the url and row of a bad one', async () => {
    const error = await haluEval
      .load({ source: 'hub', hub: { endpoint, cacheDir } })
      .catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).file).toContain(
      '/datasets/pminervini/HaluEval/resolve/refs%2Fconvert%2Fparquet/summarization_samples/data/0000.parquet',
    );
    expect((error as ValidationError).line).toBe(1);
  });
});
