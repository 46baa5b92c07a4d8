/**
 * The WebAssembly sparse kernel as built and run in processes of its own: the committed
 * sparse-lion.wasm is its AssemblyScript source compiled (`npm run build:wasm`), and under an
 * address-space limit (`ulimit -v`) a table keeps its ArrayBuffer and says why.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('WebAssembly SIMD sparse Lion kernel, in processes of its own', () => {
  it('the committed sparse-lion.wasm is kernel/sparse-lion.ts compiled (npm run build:wasm)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-asc-'));
    try {
      const out = join(dir, 'k.wasm');
      const script = JSON.parse(readFileSync('package.json', 'utf8')).scripts['build:wasm'] as string;
      const args = script.split(/\s+/).slice(1);
      args[args.indexOf('-o') + 1] = out;
      execFileSync(process.execPath, ['node_modules/assemblyscript/bin/asc.js', ...args], { stdio: 'pipe' });
      expect(readFileSync(out).equals(readFileSync('src/train/optim/wasm/sparse-lion.wasm'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'under an address-space limit (ulimit -v) a table keeps its ArrayBuffer and says why ' +
      '(each WebAssembly memory reserves ~10 GiB)',
    () => {
      const code =
        'import { RowStore } from "./src/model/row-store.ts";' +
        ' import { useWasmMemory } from "./src/train/optim/wasm/wasm-memory.ts";' +
        ' const r = new RowStore(16, 100);' +
        ' console.log(JSON.stringify({ why: useWasmMemory(r), memory: r.memory !== null }));';
      const run = (limit: string) =>
        JSON.parse(
          execFileSync(
            'sh',
            ['-c', `ulimit -v ${limit} && exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, code],
            { encoding: 'utf8' },
          ),
        );
      expect(run('80000000')).toEqual({
        why: 'the process has an address-space limit (ulimit -v, 81920000000 bytes)',
        memory: false,
      });
      expect(run('unlimited')).toEqual({ why: null, memory: true });
    },
  );
});
