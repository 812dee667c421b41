import { readFile } from 'node:fs/promises';
import { protocolJsonSchema } from '@xfer/core';
import { describe, expect, it } from 'vitest';
import { checkProtocolSchema, protocolSchemaPath, renderProtocolSchema } from './protocol-schema.js';

describe('protocol.schema.json', () => {
  it('is exactly what @xfer/core exports (run `pnpm --filter @xfer/engine-torch export-schema` when this fails)', async () => {
    const { upToDate, path } = await checkProtocolSchema();
    expect(path).toMatch(/workers\/torch\/xfer_worker\/protocol\.schema\.json$/);
    expect(upToDate).toBe(true);
  });

  it('describes every request and response frame type of core', async () => {
    const committed = JSON.parse(await readFile(protocolSchemaPath(), 'utf8')) as {
      request: { oneOf: { properties: { type: { const: string } } }[] };
      response: { oneOf: { properties: { type: { const: string } } }[] };
    };
    const requestTypes = committed.request.oneOf.map((alternative) => alternative.properties.type.const);
    expect(requestTypes).toContain('forward-backward');
    expect(requestTypes).toContain('cancel');
    expect(committed.response.oneOf.map((alternative) => alternative.properties.type.const)).toEqual([
      'ready',
      'result',
      'progress',
      'error',
      'log',
    ]);
    expect(renderProtocolSchema()).toBe(`${JSON.stringify(protocolJsonSchema(), null, 2)}\n`);
  });
});
