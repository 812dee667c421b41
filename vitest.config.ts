import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const sources = ['packages/*/src/**', 'packages/*/test/**', 'apps/*/src/**', 'apps/*/test/**', 'bench/**'];
const suffix = (pattern: string) => sources.map((dir) => `${dir}/${pattern}`);

/** Shared settings: tests read sources through the `@xfer/source` export condition, never builds. */
const shared = {
  root,
  resolve: { conditions: ['@xfer/source'] },
  ssr: { resolve: { conditions: ['@xfer/source'] } },
};

/**
 * Four projects, picked by file suffix:
 * - unit: `*.test.ts` — pure, in-process, fast;
 * - integration: `*.int.test.ts` — real SQLite files, child processes, HTTP servers;
 * - browser: `*.e2e.test.ts` — the lab server driven by a real Chromium;
 * - gpu: `*.gpu.test.ts` — needs CUDA; never in the default run (`pnpm test:gpu`).
 */
export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: suffix('*.test.ts'),
          exclude: ['**/node_modules/**', '**/*.int.test.ts', '**/*.e2e.test.ts', '**/*.gpu.test.ts'],
          setupFiles: [`${root}/tooling/vitest/fail-on-console.ts`],
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: suffix('*.int.test.ts'),
          testTimeout: 120_000,
          hookTimeout: 120_000,
          setupFiles: [`${root}/tooling/vitest/fail-on-console.ts`],
        },
      },
      {
        ...shared,
        test: {
          name: 'browser',
          include: suffix('*.e2e.test.ts'),
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      ...(process.env.XFER_GPU === '1' || process.argv.some((a) => a === 'gpu' || a === '--project=gpu')
        ? [
            {
              ...shared,
              test: { name: 'gpu', include: suffix('*.gpu.test.ts'), testTimeout: 600_000 },
            },
          ]
        : []),
    ],
  },
});
