import type { FinishReason } from '@xfer/core';

/** What stripping the reasoning part of a response found. */
export interface StrippedResponse {
  /** The text the scorer should read. */
  text: string;
  /** A `</think>` was present and everything up to the first one was removed. */
  strippedThinking: boolean;
  /** The response opened `<think>` and never closed it (the whole response is reasoning). */
  unterminatedThinking: boolean;
}

/**
 * The paper's post-processing (lm-eval fork, CoQA and IFEval): `re.sub(r".*?</think>(\\n)*", "", text,
 * flags=DOTALL).strip()`. `re.sub` replaces every match, so everything up to and including the LAST `</think>`
 * is removed, then any run of literal backslash-n pairs after it (the pattern's quirk), then surrounding
 * whitespace.
 */
export function stripReasoning(response: string): StrippedResponse {
  const index = response.lastIndexOf('</think>');
  if (index < 0) {
    return { text: response.trim(), strippedThinking: false, unterminatedThinking: /<think>/.test(response) };
  }
  const rest = response.slice(index + '</think>'.length).replace(/^(\\n)*/, '');
  return { text: rest.trim(), strippedThinking: true, unterminatedThinking: false };
}

/** Details every generative verdict carries: truncation and thinking flags. */
export function responseFlags(
  stripped: StrippedResponse | undefined,
  finishReason: FinishReason | undefined,
) {
  return {
    truncated: finishReason === 'length',
    ...(stripped === undefined
      ? {}
      : { strippedThinking: stripped.strippedThinking, unterminatedThinking: stripped.unterminatedThinking }),
  };
}
