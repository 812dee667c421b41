/**
 * Compile every src/wasm/<name>.wat to src/wasm/<name>-wasm.ts (the module bytes as base64), so the package
 * needs no WebAssembly toolchain at run time. Run after editing a .wat: `pnpm --filter @xfer/analysis build:wasm`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabt from 'wabt';

const folder = new URL('../src/wasm/', import.meta.url);
const toolkit = await wabt();
for (const file of readdirSync(folder).filter((name) => name.endsWith('.wat'))) {
  const name = file.slice(0, -'.wat'.length);
  const module = toolkit.parseWat(file, readFileSync(new URL(file, folder), 'utf8'), { simd: true });
  module.validate();
  const { buffer } = module.toBinary({});
  module.destroy();
  const constant = `${name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}WasmBase64`;
  writeFileSync(
    new URL(`${name}-wasm.ts`, folder),
    `/** Generated from ${file} by scripts/build-wasm.ts: do not edit. ${buffer.length} bytes. */\nexport const ${constant} =\n  '${Buffer.from(buffer).toString('base64')}';\n`,
  );
}
