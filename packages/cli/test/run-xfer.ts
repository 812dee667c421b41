import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const run = promisify(execFile);

export interface XferRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `xfer` entry point (from sources) in a child process; never throws on a non-zero exit. */
export async function runXfer(args: readonly string[], env: Record<string, string> = {}): Promise<XferRun> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', tsx, '--conditions=@xfer/source', bin, ...args],
      {
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
