// Starts the replica worker from TypeScript sources (tests, `pnpm -s xfer`): Node 20 does not pass a
// parent's TypeScript loader on to worker threads, so the worker registers tsx itself before importing
// its entry. A build (`dist/`) starts `replica-worker.js` directly and never reads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
