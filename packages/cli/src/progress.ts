/** Format seconds as mm:ss or h:mm:ss; `--:--` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  const hours = Math.floor(minutes / 60);
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0
    ? `${hours}:${pad(minutes % 60)}:${pad(whole % 60)}`
    : `${pad(minutes)}:${pad(whole % 60)}`;
}

/**
 * One progress line on stderr: a redrawn bar on a terminal, plain lines (at most one every `interval`
 * milliseconds, and the last one always) otherwise, so logs from CI stay readable.
 */
export class ProgressLine {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly interval = 5000,
  ) {}

  update(done: number, total: number, figures: string): void {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round(fraction * width);
      this.stream.write(
        `\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${figures}`,
      );
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (done >= total || now - this.lastPlain >= this.interval) {
      this.lastPlain = now;
      this.stream.write(`${done}/${total} ${figures}\n`);
    }
  }

  /** End the bar's line (on a terminal) before other output. */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
