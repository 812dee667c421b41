import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@xfer/core';

function findWorkspaceRoot(start: string): string | undefined {
  let directory = resolve(start);
  for (;;) {
    if (existsSync(join(directory, 'pnpm-workspace.yaml'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/**
 * Where the real benchmark files live: `$XFER_DATA_DIR` when set, else `../shared/benchmarks` beside the
 * repository (found from the working directory, then from this package's location) when it exists.
 * Returns undefined when neither is available.
 */
export function findDataDir(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnvironment = environment.XFER_DATA_DIR;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return resolve(fromEnvironment);
  for (const start of [process.cwd(), dirname(fileURLToPath(import.meta.url))]) {
    const root = findWorkspaceRoot(start);
    if (root === undefined) continue;
    const candidate = resolve(root, '..', 'shared', 'benchmarks');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Like `findDataDir`, but a missing data directory is a ValidationError that says how to fix it. */
export function requireDataDir(dataDir?: string): string {
  const found = dataDir ?? findDataDir();
  if (found === undefined) {
    throw new ValidationError({
      code: 'INVALID_CONFIG',
      field: 'dataDir',
      message:
        'no benchmark data directory: set XFER_DATA_DIR, pass dataDir, or load from the hub (source: "hub")',
    });
  }
  return found;
}
