/**
 * Code extraction exactly as the paper's evalchemy `LiveCodeBench` task: every fenced block matching
 * ```` ```(?:[a-zA-Z]*)\n(.*?)``` ```` (DOTALL), the LAST one, then `post_process_code`: cut at `</code>`, remove
 * ```` ```python ````, cut at the next ```` ``` ````, remove `<code>`. `null` when there is no block (the item then
 * counts as incorrect).
 *
 * @example
 * extractCode('Plan...\n```python\nprint(1)\n```\nDone.'); // 'print(1)\n'
 */
export function extractCode(completion: string): string | null {
  const blocks = [...completion.matchAll(/```(?:[a-zA-Z]*)\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const last = blocks.at(-1);
  if (last === undefined) return null;
  let code = last.split('</code>')[0] ?? '';
  code = code.replaceAll('```python', '');
  code = code.split('```')[0] ?? '';
  return code.replaceAll('<code>', '');
}
