import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseJson, ValidationError, XferError } from '@xfer/core';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** A file inside a Hugging Face hub dataset repository. */
export interface HubFile {
  /** `owner/name` of the dataset repository. */
  repo: string;
  /** Path inside the repository, e.g. `test.jsonl` or `en/test/0000.parquet`. */
  path: string;
  /** Branch, tag or commit; `refs/convert/parquet` for the hub's parquet conversion. Default `main`. */
  revision?: string;
  /** Expected sha256 of the file; a download that does not match is rejected. */
  sha256?: string;
}

export interface HubOptions {
  /** Hub base URL. Default `$HF_ENDPOINT`, else `https://huggingface.co`. */
  endpoint?: string;
  /** Cache directory. Default `$XFER_CACHE_DIR/hub`, else `~/.cache/xfer/hub`. */
  cacheDir?: string;
  /** Bearer token for gated datasets. Default `$HF_TOKEN`. */
  token?: string;
  /** The fetch to use (tests pass one bound to a local server; default global fetch). */
  fetch?: typeof fetch;
  /** Called once per file with whether it came from the cache. */
  onFile?: (event: { url: string; path: string; sha256: string; cached: boolean; bytes: number }) => void;
}

/** The on-disk result of a hub download. */
export interface CachedHubFile {
  url: string;
  path: string;
  sha256: string;
  cached: boolean;
  bytes: Uint8Array;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The hub's URL layout for a dataset file: `<endpoint>/datasets/<repo>/resolve/<revision>/<path>`. */
export function hubFileUrl(
  file: HubFile,
  endpoint = process.env.HF_ENDPOINT ?? 'https://huggingface.co',
): string {
  const revision = encodeURIComponent(file.revision ?? 'main');
  const path = file.path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/datasets/${file.repo}/resolve/${revision}/${path}`;
}

function defaultCacheDir(): string {
  const base = process.env.XFER_CACHE_DIR;
  return base !== undefined && base !== '' ? join(base, 'hub') : join(homedir(), '.cache', 'xfer', 'hub');
}

/**
 * Download a dataset file from the hub, or reuse the cached copy. The cache keeps the file and a `.sha256`
 * sidecar; a cached file whose content no longer matches its sidecar (or the expected hash) is fetched again.
 */
export async function downloadHubFile(file: HubFile, options: HubOptions = {}): Promise<CachedHubFile> {
  const url = hubFileUrl(file, options.endpoint);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const path = join(
    cacheDir,
    'datasets',
    file.repo,
    (file.revision ?? 'main').replaceAll('/', '--'),
    file.path,
  );
  const sidecar = `${path}.sha256`;
  try {
    const [bytes, recorded] = await Promise.all([readFile(path), readFile(sidecar, 'utf8')]);
    const sha256 = sha256Hex(bytes);
    if (sha256 === recorded.trim() && (file.sha256 === undefined || file.sha256 === sha256)) {
      options.onFile?.({ url, path, sha256, cached: true, bytes: bytes.byteLength });
      return { url, path, sha256, cached: true, bytes: new Uint8Array(bytes) };
    }
  } catch {
    // not cached yet
  }
  const fetcher = options.fetch ?? fetch;
  const token = options.token ?? process.env.HF_TOKEN;
  let response: Response;
  try {
    response = await fetcher(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  } catch (cause) {
    throw new XferError({
      code: 'NOT_FOUND',
      message: `cannot reach the hub for ${url}: ${(cause as Error).message}`,
      cause,
    });
  }
  if (!response.ok) {
    throw new XferError({
      code: 'NOT_FOUND',
      message: `hub download failed: ${url} answered ${response.status} ${response.statusText}`,
      data: { url, status: response.status },
    });
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const sha256 = sha256Hex(bytes);
  if (file.sha256 !== undefined && file.sha256 !== sha256) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      file: url,
      message: `sha256 mismatch: expected ${file.sha256}, got ${sha256}`,
    });
  }
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.partial`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
  await writeFile(sidecar, `${sha256}\n`);
  options.onFile?.({ url, path, sha256, cached: false, bytes: bytes.byteLength });
  return { url, path, sha256, cached: false, bytes };
}

/**
 * Read the rows of a downloaded file by extension: `.parquet` (hyparquet, with the common compressors),
 * `.jsonl`, or `.json` (an array, or an object with a `data` array). Each row is returned with its line (1-based
 * row number for parquet).
 */
export async function readHubRows(downloaded: CachedHubFile): Promise<{ value: unknown; line: number }[]> {
  const name = downloaded.path;
  if (name.endsWith('.parquet')) {
    const buffer = downloaded.bytes.buffer.slice(
      downloaded.bytes.byteOffset,
      downloaded.bytes.byteOffset + downloaded.bytes.byteLength,
    ) as ArrayBuffer;
    try {
      const rows = await parquetReadObjects({ file: buffer, compressors, rowFormat: 'object' });
      return rows.map((value, index) => ({ value: normaliseParquetValue(value), line: index + 1 }));
    } catch (cause) {
      throw new ValidationError({
        code: 'INVALID_DATA_FILE',
        file: name,
        message: `unreadable parquet: ${(cause as Error).message}`,
        cause,
      });
    }
  }
  const text = new TextDecoder().decode(downloaded.bytes);
  if (name.endsWith('.jsonl')) {
    return text
      .split('\n')
      .map((line, index) => ({ line: index + 1, raw: line }))
      .filter((entry) => entry.raw.trim() !== '')
      .map((entry) => ({ value: parseJson(entry.raw, { file: name, line: entry.line }), line: entry.line }));
  }
  const parsed = parseJson(text, { file: name });
  const array = Array.isArray(parsed) ? parsed : (parsed as { data?: unknown })?.data;
  if (!Array.isArray(array)) {
    throw new ValidationError({
      code: 'INVALID_DATA_FILE',
      file: name,
      message: 'expected a JSON array or {"data": [...]}',
    });
  }
  return array.map((value, index) => ({ value, line: index + 1 }));
}

/** Parquet integers can come back as bigint; the benchmark schemas expect JSON numbers. */
function normaliseParquetValue(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(normaliseParquetValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, normaliseParquetValue(inner)]),
    );
  }
  return value;
}
