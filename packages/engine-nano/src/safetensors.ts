import { ValidationError } from '@xfer/core';

/** One tensor of a safetensors file (engine-nano reads and writes F32 only). */
export interface TensorEntry {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/**
 * Serialise tensors in the safetensors format: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets}}`, plus `__metadata__`) padded with spaces to 8 bytes, then the raw
 * little-endian data. Tensors are written in name order.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorEntry>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    const expected = tensor.shape.reduce((a, b) => a * b, 1);
    if (expected !== tensor.data.length) {
      throw new ValidationError({
        field: name,
        message: `shape [${tensor.shape}] needs ${expected} values, got ${tensor.data.length}`,
      });
    }
    const bytes = tensor.data.length * 4;
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  while ((8 + Buffer.byteLength(headerText)) % 8 !== 0) headerText += ' ';
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/** A decoded safetensors file. */
export interface DecodedSafetensors {
  tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array | undefined }>;
  metadata: Record<string, string>;
}

/**
 * Parse a safetensors file. F32 tensors are decoded; other dtypes are reported with `data: undefined` so the
 * caller can name the offending tensor. Structural corruption (truncated file, bad header, offsets out of
 * range) throws a ValidationError naming the file and the tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, file = 'model.safetensors'): DecodedSafetensors {
  const fail = (message: string, field?: string): never => {
    throw new ValidationError({
      code: 'CHECKPOINT_INVALID',
      file,
      ...(field === undefined ? {} : { field }),
      message,
    });
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > bytes.length)
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (cause) {
    return fail(`header is not valid JSON: ${(cause as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return fail('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: DecodedSafetensors['tensors'] = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (
      typeof entry?.dtype !== 'string' ||
      !Array.isArray(entry.shape) ||
      !Array.isArray(entry.data_offsets)
    ) {
      fail('tensor entry needs dtype, shape and data_offsets', name);
    }
    const shape = entry.shape as number[];
    const [begin, end] = entry.data_offsets as [number, number];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      fail(`data_offsets [${begin}, ${end}] are outside the data section (${dataLength} bytes)`, name);
    }
    if (entry.dtype !== 'F32') {
      tensors.set(name, { dtype: entry.dtype as string, shape, data: undefined });
      continue;
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count * 4 !== end - begin)
      fail(`shape [${shape}] needs ${count * 4} bytes, the entry has ${end - begin}`, name);
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype: 'F32', shape, data });
  }
  return { tensors, metadata };
}
