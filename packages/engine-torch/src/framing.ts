/**
 * Byte-level NDJSON framing: chunks are split on the byte `\n` before any UTF-8 decoding, so a multi-byte
 * character split across chunks is never corrupted. A line longer than `maxLineBytes` is dropped (and
 * reported) instead of growing the buffer without bound.
 */
export class NdjsonSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding = false;

  /**
   * @param maxLineBytes the longest line kept
   * @param onOverflow called once per dropped line with the bytes seen so far
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  /** Feed a chunk; returns the complete lines it finished (without the newline, decoded as UTF-8). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(start, end);
      if (!this.discarding) {
        if (this.size + piece.length > this.maxLineBytes) {
          this.onOverflow(this.size + piece.length);
          this.discarding = true;
          this.chunks = [];
          this.size = 0;
        } else if (piece.length > 0) {
          this.chunks.push(piece);
          this.size += piece.length;
        }
      }
      if (newline === -1) break;
      if (!this.discarding) lines.push(Buffer.concat(this.chunks, this.size).toString('utf8'));
      this.chunks = [];
      this.size = 0;
      this.discarding = false;
      start = newline + 1;
    }
    return lines;
  }

  /** Bytes held for an unfinished line. */
  get pendingBytes(): number {
    return this.size;
  }
}

/** Keeps the last `limit` bytes written to it (the worker's stderr tail for crash reports). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks, this.size);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}
