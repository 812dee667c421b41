import { z } from 'zod';
import { ValidationError } from './errors/index.js';

/** A Hugging Face hub model id (`Qwen/Qwen3-14B-Base`), optionally at a revision. */
export const HubModelRefSchema = z.object({
  kind: z.literal('hf'),
  id: z.string().regex(/^[\w.-]+(\/[\w.-]+)?$/, 'expected a hub id like "org/name"'),
  revision: z.string().min(1).optional(),
});
/** A model directory in Hugging Face format on local disk. */
export const LocalModelRefSchema = z.object({ kind: z.literal('local'), path: z.string().min(1) });
/** A nano checkpoint: a shipped name (`nano-base`) or a directory written by engine-nano. */
export const NanoModelRefSchema = z
  .object({
    kind: z.literal('nano'),
    name: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
  })
  .refine((ref) => ref.name !== undefined || ref.path !== undefined, 'a nano model needs a name or a path');
/** A model behind an OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, Ollama, xfer serve-model). */
export const OpenAIModelRefSchema = z.object({
  kind: z.literal('openai'),
  baseUrl: z.url(),
  model: z.string().min(1),
  /** Name of the environment variable holding the API key; the key itself is never stored. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional(),
  api: z.enum(['chat', 'completions']).default('chat'),
});

export const ModelRefSchema = z.union([
  HubModelRefSchema,
  LocalModelRefSchema,
  NanoModelRefSchema,
  OpenAIModelRefSchema,
]);
export type ModelRef = z.infer<typeof ModelRefSchema>;
export type HubModelRef = z.infer<typeof HubModelRefSchema>;
export type LocalModelRef = z.infer<typeof LocalModelRefSchema>;
export type NanoModelRef = z.infer<typeof NanoModelRefSchema>;
export type OpenAIModelRef = z.infer<typeof OpenAIModelRefSchema>;

/**
 * Parse a model reference from the command line:
 * - `nano-base`, `nano:<name>` or `nano:<dir>` — a nano checkpoint;
 * - `hf:org/name[@revision]` or `org/name` — a hub id;
 * - `./dir`, `/abs/dir`, `local:<dir>` — a local HF-format directory;
 * - `openai:<baseUrl>#<model>` or `http(s)://host/v1#<model>` — an OpenAI-compatible endpoint.
 */
export function parseModelRef(text: string): ModelRef {
  const value = text.trim();
  const fail = (message: string): never => {
    throw new ValidationError({ field: 'model', message: `${message} (got "${text}")` });
  };
  if (value === '') fail('empty model reference');
  if (value.startsWith('nano:')) {
    const rest = value.slice(5);
    return rest.includes('/') || rest.startsWith('.')
      ? { kind: 'nano', path: rest }
      : { kind: 'nano', name: rest };
  }
  if (/^nano(-[\w.-]+)?$/.test(value)) return { kind: 'nano', name: value };
  const endpoint = value.startsWith('openai:')
    ? value.slice(7)
    : /^https?:\/\//.test(value)
      ? value
      : undefined;
  if (endpoint !== undefined) {
    const [baseUrl, model] = endpoint.split('#');
    if (!baseUrl || !model) fail('an endpoint needs "<baseUrl>#<model>"');
    return OpenAIModelRefSchema.parse({ kind: 'openai', baseUrl, model, apiKeyEnv: 'XFER_API_KEY' });
  }
  if (value.startsWith('local:')) return { kind: 'local', path: value.slice(6) };
  if (value.startsWith('/') || value.startsWith('.')) return { kind: 'local', path: value };
  const hub = value.startsWith('hf:') ? value.slice(3) : value;
  const [id, revision] = hub.split('@');
  const parsed = HubModelRefSchema.safeParse({ kind: 'hf', id, ...(revision ? { revision } : {}) });
  if (!parsed.success) fail('not a nano name, path, hub id or endpoint');
  return parsed.data as HubModelRef;
}

/** A stable display string for a model reference (inverse of `parseModelRef` where possible). */
export function formatModelRef(ref: ModelRef): string {
  switch (ref.kind) {
    case 'hf':
      return `hf:${ref.id}${ref.revision ? `@${ref.revision}` : ''}`;
    case 'local':
      return `local:${ref.path}`;
    case 'nano':
      return ref.path !== undefined ? `nano:${ref.path}` : `nano:${ref.name}`;
    case 'openai':
      return `openai:${ref.baseUrl}#${ref.model}`;
  }
}
