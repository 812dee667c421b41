import { z } from 'zod';

/** One LiveCodeBench test case as in `public_test_cases` / decoded `private_test_cases`. */
export const LiveCodeBenchTestSchema = z.object({
  input: z.string(),
  output: z.string(),
  testtype: z.enum(['stdin', 'functional']),
});
export type LiveCodeBenchTest = z.infer<typeof LiveCodeBenchTestSchema>;

/**
 * What the LiveCodeBench scorer expects in `item.target`: the tests to grade on (the paper: the decoded
 * `private_test_cases`), whether the problem is stdin-based (the paper: any public test has
 * `testtype == "stdin"`), and for call-based problems the method name (`metadata.func_name`, or derived from
 * the starter code).
 */
export const LiveCodeBenchTargetSchema = z.object({
  tests: z.array(LiveCodeBenchTestSchema).min(1),
  isStdin: z.boolean(),
  functionName: z.string().min(1).optional(),
  starterCode: z.string().optional(),
});
export type LiveCodeBenchTarget = z.infer<typeof LiveCodeBenchTargetSchema>;

/** The method a LeetCode starter stub declares: the last `def name(self, ...)`. */
export function functionNameFromStarterCode(starterCode: string): string | undefined {
  const names = [...starterCode.matchAll(/def\s+([A-Za-z_]\w*)\s*\(\s*self\b/g)].map((match) => match[1]);
  return names.at(-1);
}
