import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../..', import.meta.url));

async function xfer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return run('pnpm', ['-s', 'xfer', ...args], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    maxBuffer: 1 << 24,
  });
}

describe('xfer pretrain', () => {
  const directories: string[] = [];
  afterAll(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('writes an HF checkpoint that the same seed reproduces bit for bit and another seed does not', async () => {
    const base = await mkdtemp(join(tmpdir(), 'xfer-pretrain-'));
    directories.push(base);
    const outputs = ['a', 'b', 'c'].map((name) => join(base, name));
    const first = await xfer([
      'pretrain',
      '--preset',
      'tiny',
      '--seed',
      '11',
      '--out',
      outputs[0]!,
      '--eval-limit',
      '3',
    ]);
    const second = await xfer([
      'pretrain',
      '--preset',
      'tiny',
      '--seed',
      '11',
      '--out',
      outputs[1]!,
      '--no-eval',
    ]);
    const third = await xfer([
      'pretrain',
      '--preset',
      'tiny',
      '--seed',
      '12',
      '--out',
      outputs[2]!,
      '--no-eval',
    ]);
    // the plain kernel rounds each product before adding it: the same seed, other last bits
    const plainKernel = await xfer(
      ['pretrain', '--preset', 'tiny', '--seed', '11', '--out', join(base, 'plain'), '--no-eval'],
      { XFER_NANO_KERNELS: 'wasm-simd' },
    );
    const lastLine = (text: string) => text.trim().split('\n').at(-1)!;
    const sha = (text: string) => lastLine(text).match(/sha256=([0-9a-f]{64})/)![1];
    expect(lastLine(first.stdout)).toMatch(
      /^preset=tiny seed=11 steps=6 tokens=\d+ loss=[\d.]+ seconds=[\d.]+ sha256=[0-9a-f]{64} out=\S+ math=[\d.]+ other=[\d.]+ non=[\d.]+$/,
    );
    expect(first.stdout).toContain('Math reasoning');
    expect(first.stdout).toContain('nano-temporal');
    const weights = await Promise.all(
      outputs.map((directory) => readFile(join(directory, 'model.safetensors'))),
    );
    expect(sha(second.stdout)).toBe(sha(first.stdout));
    expect(Buffer.compare(weights[0]!, weights[1]!)).toBe(0);
    expect(sha(third.stdout)).not.toBe(sha(first.stdout));
    expect(sha(plainKernel.stdout)).not.toBe(sha(first.stdout));
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'pretraining.json']) {
      await expect(readFile(join(outputs[0]!, file), 'utf8')).resolves.toContain('{');
    }
    const record = JSON.parse(await readFile(join(outputs[0]!, 'pretraining.json'), 'utf8'));
    expect(record.seed).toBe(11);
    expect(record.checkpoint.sha256).toBe(sha(first.stdout));
    expect(record.corpus.documents).toBeGreaterThan(12 * 8);
    const fused = process.env.XFER_NANO_KERNELS === 'wasm-simd' ? 'wasm-simd' : 'wasm-simd-fma';
    expect(record.compute).toEqual({ kernels: fused, threads: expect.any(Number) });
    const plainRecord = JSON.parse(await readFile(join(base, 'plain', 'pretraining.json'), 'utf8'));
    expect(plainRecord.compute.kernels).toBe('wasm-simd');
  });

  it('names the bad option', async () => {
    const failure = await xfer(['pretrain', '--preset', 'tiny', '--seed', '-1']).catch((error) => error);
    expect(failure.code).toBe(1);
    expect(`${failure.stderr}`).toContain('--seed');
  });
});
