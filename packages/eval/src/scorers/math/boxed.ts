/**
 * The Hendrycks MATH answer extraction used by both of the paper's harnesses: find the LAST `\boxed`
 * (else the last `\fbox`), take its brace-balanced argument. `\boxed 5` (no braces) is read up to the next `$`,
 * as lm-eval's copy does. Returns null when there is no complete boxed answer: a truncated last `\boxed{...`
 * gives null even when an earlier box is complete, exactly as the reference code behaves.
 */
export function lastBoxedOnlyString(text: string): string | null {
  let index = text.lastIndexOf('\\boxed');
  if (text.includes('\\boxed ')) {
    const tail = text.split('\\boxed ').at(-1) ?? '';
    // lm-eval: only when the last \boxed is the spaced form; a later \boxed{...} wins otherwise.
    if (text.lastIndexOf('\\boxed ') >= index) return `\\boxed ${tail.split('$')[0]}`;
  }
  if (index < 0) {
    index = text.lastIndexOf('\\fbox');
    if (index < 0) return null;
  }
  let open = 0;
  for (let position = index; position < text.length; position++) {
    const character = text[position];
    if (character === '{') open++;
    else if (character === '}') {
      open--;
      if (open === 0) return text.slice(index, position + 1);
    }
  }
  return null;
}

/** Strip the `\boxed{...}` / `\fbox{...}` / `\boxed ` wrapper; null when the string is not such a wrapper. */
export function removeBoxed(boxed: string): string | null {
  if (boxed.startsWith('\\boxed ')) return boxed.slice('\\boxed '.length);
  for (const left of ['\\boxed{', '\\fbox{']) {
    if (boxed.startsWith(left) && boxed.endsWith('}')) return boxed.slice(left.length, -1);
  }
  return null;
}

/** The answer inside the last complete `\boxed{}` of a response, or null. */
export function extractBoxedAnswer(text: string): string | null {
  const boxed = lastBoxedOnlyString(text);
  return boxed === null ? null : removeBoxed(boxed);
}

/** Every complete boxed answer in order (for audits: "several boxed answers" responses). */
export function allBoxedAnswers(text: string): string[] {
  const answers: string[] = [];
  const pattern = /\\(?:boxed|fbox)\{/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    let open = 0;
    for (let position = match.index; position < text.length; position++) {
      const character = text[position];
      if (character === '{') open++;
      else if (character === '}') {
        open--;
        if (open === 0) {
          answers.push(text.slice(match.index + match[0].length, position));
          break;
        }
      }
    }
  }
  return answers;
}
