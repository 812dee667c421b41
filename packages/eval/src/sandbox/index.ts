export {
  defaultSandboxLimits,
  detectIsolation,
  type IsolationLevel,
  isIsolationAvailable,
  type ProgramResult,
  type ProgramRun,
  runProgram,
  type SandboxLimits,
  type SandboxOptions,
  type SandboxProtocol,
  setSandboxConcurrency,
  type TestVerdict,
} from './run-program.js';
