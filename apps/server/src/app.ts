import type { EngineV1 } from '@xfer/core';
import { Hono } from 'hono';
import { openaiRoutes, type ServedModel } from './routes/openai.js';

export interface AppOptions {
  /** The lab store (the dashboard and REST API will read it; the OpenAI endpoint does not need it). */
  store?: unknown;
  /** Models served on the OpenAI-compatible endpoint, by name: an engine, or an engine with its decoder. */
  engines?: Record<string, EngineV1 | ServedModel>;
}

function isEngine(value: EngineV1 | ServedModel): value is EngineV1 {
  return (value as EngineV1).specificationVersion === 'v1';
}

/** Build the lab server's Hono app. Routes: the OpenAI-compatible endpoint under `/v1`. */
export function createApp(options: AppOptions = {}): Hono {
  const app = new Hono();
  const models: Record<string, ServedModel> = {};
  for (const [name, value] of Object.entries(options.engines ?? {}))
    models[name] = isEngine(value) ? { engine: value } : value;
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.route('/', openaiRoutes({ models }));
  return app;
}
