import { type ModelRef, parseModelRef } from '@xfer/core';
import { defineCommand } from 'citty';
import { reportError } from '../report-error.js';

export default defineCommand({
  meta: {
    name: 'serve-model',
    description:
      'Serve a nano checkpoint on an OpenAI-compatible endpoint (/v1/models, /v1/completions, /v1/chat/completions)',
  },
  args: {
    checkpoint: {
      type: 'positional',
      required: true,
      description: 'checkpoint directory, or a nano name (nano-base)',
    },
    port: { type: 'string', default: '8000', description: 'port (0 picks a free one)' },
    host: { type: 'string', default: '127.0.0.1', description: 'interface to listen on' },
    name: { type: 'string', description: 'model name clients ask for (default: the checkpoint name)' },
  },
  async run({ args }) {
    try {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        const { ValidationError } = await import('@xfer/core');
        throw new ValidationError({ field: '--port', message: `expected a port number, got '${args.port}'` });
      }
      const text = args.checkpoint;
      const ref: ModelRef = /^nano(-[\w.-]+)?$|^nano:/.test(text)
        ? parseModelRef(text)
        : { kind: 'nano', path: text };
      const { createNanoEngine, decodeTokens, encodeText } = await import('@xfer/engine-nano');
      const { createApp, listen } = await import('@xfer/server');
      const engine = await createNanoEngine(ref);
      const info = await engine.info();
      const name =
        args.name ??
        (ref.kind === 'nano' && ref.name ? ref.name : text.replace(/\/+$/, '').split('/').pop()!);
      const server = await listen(
        createApp({ engines: { [name]: { engine, decode: decodeTokens, encode: encodeText } } }),
        {
          port,
          hostname: args.host,
        },
      );
      process.stdout.write(`model=${name} model_hash=${info.modelHash.slice(0, 12)}\n`);
      process.stdout.write(`listening=${server.url}/v1\n`);
      const stop = async () => {
        await server.close();
        await engine.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    } catch (error) {
      reportError(error);
    }
  },
});
