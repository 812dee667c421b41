import { defineConfig } from 'tsup';

export default defineConfig({
  // the replica worker is its own entry: `replica.ts` starts `./replica-worker.js` next to the bundle
  entry: ['src/index.ts', 'src/replica-worker.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
