import { describe, expect, it } from 'vitest';
import { workerEnvironment } from './environment.js';

describe('workerEnvironment', () => {
  it('passes only allow-listed variables, then explicit extras, then the worker essentials', () => {
    const env = workerEnvironment({
      parent: {
        PATH: '/bin',
        OPENAI_API_KEY: 'secret',
        AWS_SECRET_ACCESS_KEY: 'x',
        NCCL_DEBUG: 'INFO',
        CUDA_VISIBLE_DEVICES: '1',
        PYTHONPATH: '/evil',
      },
      extra: { MY_FLAG: '1' },
      workerDirectory: '/repo/workers/torch',
      parentPid: 42,
    });
    expect(env).toEqual({
      PATH: '/bin',
      NCCL_DEBUG: 'INFO',
      CUDA_VISIBLE_DEVICES: '1',
      OPENBLAS_NUM_THREADS: '1',
      MY_FLAG: '1',
      PYTHONPATH: '/repo/workers/torch',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      XFER_PARENT_PID: '42',
    });
  });
});
