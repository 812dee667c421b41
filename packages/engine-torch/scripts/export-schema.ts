/**
 * Export core's worker protocol as JSON Schema for the Python worker:
 * `pnpm --filter @xfer/engine-torch export-schema` (or `tsx --conditions=@xfer/source scripts/export-schema.ts`).
 * With `--check` it exits 1 when the committed file has drifted from core.
 */
import { checkProtocolSchema, writeProtocolSchema } from '../src/protocol-schema.js';

if (process.argv.includes('--check')) {
  const { upToDate, path } = await checkProtocolSchema();
  process.stdout.write(
    `${path}: ${upToDate ? 'up to date' : 'DRIFTED from @xfer/core (run export-schema)'}\n`,
  );
  process.exit(upToDate ? 0 : 1);
} else {
  process.stdout.write(`wrote ${await writeProtocolSchema()}\n`);
}
