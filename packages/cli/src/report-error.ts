import { XferError } from '@xfer/core';

/** Print an error the way a user wants to read it: code, message, where; a stack only with XFER_DEBUG=1. */
export function reportError(error: unknown): never {
  if (XferError.isInstance(error)) {
    process.stderr.write(`xfer: error ${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`xfer: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  if (process.env.XFER_DEBUG === '1' && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
