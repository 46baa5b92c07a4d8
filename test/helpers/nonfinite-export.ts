/**
 * Makes an export hold a NaN or infinite weight after it was written, as a writer without
 * writeExport's check (or a bit flip) would leave it: the value goes into `dense/weights.bin`
 * or an embedding table's Arrow file, and the manifest's checksum is updated so that only
 * the finiteness check of the reader can catch it.
 */
import * as arrow from 'apache-arrow';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { embeddingsFromArrow, embeddingsToArrow, sha256 } from '../../src/model/export-format.ts';

/**
 * Puts `value` at float index `at` of the tower weights (`rel` = `dense/weights.bin`) or of
 * the packed [n, width] values of an embedding table (`rel` = `embeddings/<slot>.arrow`,
 * `width` its row width) of the export version directory `dir`.
 */
export async function putNonFinite(dir: string, rel: string, at: number, value: number, width = 0): Promise<void> {
  const file = join(dir, rel);
  let bytes: Uint8Array;
  if (rel.endsWith('.bin')) {
    const buf = await readFile(file);
    const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    w[at] = value;
    bytes = new Uint8Array(w.buffer);
  } else {
    const t = embeddingsFromArrow(arrow.tableFromIPC(await readFile(file)), width);
    t.values[at] = value;
    bytes = arrow.tableToIPC(embeddingsToArrow(t.hi, t.lo, t.values, t.n, width), 'file');
  }
  await writeFile(file, bytes);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
  manifest.files[rel] = sha256(bytes);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
}
