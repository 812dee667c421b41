import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNanoModel, defaultNanoConfig, saveNanoCheckpoint } from '@xfer/engine-nano';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'xfer-serve-model-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('xfer serve-model', () => {
  it('serves a checkpoint on /v1 until SIGTERM', async () => {
    const checkpoint = join(directory, 'nano-mini');
    const tiny = {
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
    };
    await saveNanoCheckpoint(createNanoModel({ ...defaultNanoConfig, ...tiny }, 9), checkpoint);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@xfer/source',
        'packages/cli/src/bin.ts',
        'serve-model',
        checkpoint,
        '--port',
        '0',
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const match = /listening=(\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.once('close', () => reject(new Error(`serve-model exited early: ${stderr}`)));
    });
    expect(stdout).toMatch(/^model=nano-mini model_hash=[0-9a-f]{12}$/m);
    const models = (await (await fetch(`${url}/models`)).json()) as {
      data: { id: string; owned_by: string }[];
    };
    expect(models.data.map((model) => [model.id, model.owned_by])).toEqual([['nano-mini', 'xfer']]);
    const completion = (await (
      await fetch(`${url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'nano-mini', prompt: 'Hi', max_tokens: 4, temperature: 0 }),
      })
    ).json()) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(completion.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(completion.usage.completion_tokens).toBeLessThanOrEqual(4);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
