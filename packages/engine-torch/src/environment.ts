/**
 * The worker's environment is built from an allow-list, never inherited wholesale: secrets in the parent's
 * environment (API keys, tokens) do not leak into a process that runs third-party model code.
 */
export const allowedEnvironment = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'CUDA_VISIBLE_DEVICES',
  'CUDA_DEVICE_ORDER',
  'CUDA_HOME',
  'LD_LIBRARY_PATH',
  'PYTORCH_CUDA_ALLOC_CONF',
  'NVIDIA_VISIBLE_DEVICES',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'HF_HOME',
  'HF_HUB_OFFLINE',
  'HF_HUB_CACHE',
  'TRANSFORMERS_OFFLINE',
  'TRANSFORMERS_CACHE',
  'XFER_NANO_MODELS',
  'XFER_NANO_DIR',
  'XFER_WORKER_FAULTS',
  'MASTER_ADDR',
  'MASTER_PORT',
] as const;

/** Prefixes also passed through (NCCL tuning). */
const allowedPrefixes = ['NCCL_'];

/**
 * The environment for a worker: allow-listed variables of `parent`, then `extra` (explicit, trusted), then
 * the variables the worker needs: `PYTHONPATH` (the worker package), `PYTHONUNBUFFERED=1`, `XFER_PARENT_PID`.
 */
export function workerEnvironment(options: {
  parent?: NodeJS.ProcessEnv;
  extra?: Record<string, string>;
  workerDirectory: string;
  parentPid?: number;
}): Record<string, string> {
  const parent = options.parent ?? process.env;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (
      (allowedEnvironment as readonly string[]).includes(key) ||
      allowedPrefixes.some((prefix) => key.startsWith(prefix))
    ) {
      env[key] = value;
    }
  }
  env.OPENBLAS_NUM_THREADS ??= '1';
  Object.assign(env, options.extra ?? {});
  env.PYTHONPATH = options.workerDirectory;
  env.PYTHONUNBUFFERED = '1';
  env.PYTHONDONTWRITEBYTECODE = '1';
  env.XFER_PARENT_PID = String(options.parentPid ?? process.pid);
  return env;
}
