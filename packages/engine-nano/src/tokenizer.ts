/**
 * The byte-level tokenizer of every nano model: ids 0–255 are the UTF-8 bytes, followed by the special
 * tokens the Qwen-style chat template needs. Its `tokenizer.json` is a Hugging Face `tokenizers` BPE model
 * with a ByteLevel pre-tokenizer and no merges, so `tokenizers` encodes every byte to the same id.
 */

/** The special tokens, with their fixed ids (after the 256 bytes). */
export const specialTokens = {
  endOfText: { id: 256, content: '<|endoftext|>', special: true },
  imStart: { id: 257, content: '<|im_start|>', special: true },
  imEnd: { id: 258, content: '<|im_end|>', special: true },
  thinkStart: { id: 259, content: '<think>', special: false },
  thinkEnd: { id: 260, content: '</think>', special: false },
} as const;

/** Number of tokens the tokenizer defines (the model's vocab_size may be larger, padded). */
export const tokenizerVocabSize = 261;
export const endOfTextId = specialTokens.endOfText.id;
export const imEndId = specialTokens.imEnd.id;

const specialList = Object.values(specialTokens);
const specialById = new Map<number, string>(specialList.map((token) => [token.id, token.content]));
const encoder = new TextEncoder();

/** GPT-2's byte → printable-unicode table that the ByteLevel pre-tokenizer uses. */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) {
      table[b] = String.fromCharCode(256 + extra);
      extra++;
    }
  }
  return table;
}

/**
 * Encode text to token ids. Special-token strings in the text become their ids (as Hugging Face does for
 * added tokens); everything else is its UTF-8 bytes.
 */
export function encodeText(text: string): number[] {
  const ids: number[] = [];
  let start = 0;
  let cursor = 0;
  while (cursor < text.length) {
    let matched: (typeof specialList)[number] | undefined;
    if (text.charCodeAt(cursor) === 60 /* '<' */) {
      for (const token of specialList) {
        if (text.startsWith(token.content, cursor)) {
          matched = token;
          break;
        }
      }
    }
    if (matched) {
      if (cursor > start) for (const byte of encoder.encode(text.slice(start, cursor))) ids.push(byte);
      ids.push(matched.id);
      cursor += matched.content.length;
      start = cursor;
    } else {
      cursor++;
    }
  }
  if (cursor > start) for (const byte of encoder.encode(text.slice(start, cursor))) ids.push(byte);
  return ids;
}

/**
 * Decode token ids to text. Invalid UTF-8 becomes U+FFFD (Hugging Face's `errors="replace"`); ids beyond
 * the tokenizer (padding rows of the embedding) decode to nothing. With `skipSpecialTokens`, tokens
 * marked special are dropped.
 */
export function decodeTokens(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let text = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) text += decoder.decode(new Uint8Array(bytes));
    bytes = [];
  };
  for (const id of ids) {
    if (id >= 0 && id < 256) {
      bytes.push(id);
      continue;
    }
    flush();
    const special = specialById.get(id);
    if (special === undefined) continue;
    const isSpecial = specialList.find((token) => token.id === id)?.special ?? false;
    if (options.skipSpecialTokens && isSpecial) continue;
    text += special;
  }
  flush();
  return text;
}

/** Decoded text of each token on its own (bytes of a split character decode to U+FFFD). */
export function tokenStrings(ids: readonly number[]): string[] {
  return ids.map((id) => decodeTokens([id]));
}

/** The Hugging Face `tokenizer.json` of the byte tokenizer. */
export function tokenizerJson(): Record<string, unknown> {
  const table = byteToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[table[b]!] = b;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialList.map((token) => ({
      id: token.id,
      content: token.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: token.special,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}
