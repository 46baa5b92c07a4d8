/**
 * The malloc step of `lionctr native build`: builds `lionctr_malloc.node` (src/model/native/
 * malloc_tune.c, Node-API only, so one build serves every Node version) with node-gyp in the
 * cache and puts it where src/model/malloc-tunables.ts loads it:
 * `<root>/node_modules/.lionctr/lionctr_malloc.node` (removed by `npm ci` with the tfjs-node addon,
 * and built again with it).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mallocAddonPath } from '../../model/malloc-tunables.ts';
import type { HostTools } from './host.ts';
import { lastLines, type NativeBuildOptions, runChild, StepFailure } from './steps.ts';

/** The addon's sources: src/model/native/{binding.gyp, malloc_tune.c}. */
const SOURCE_DIR = fileURLToPath(new URL('../../model/native/', import.meta.url));
const SOURCES = ['binding.gyp', 'malloc_tune.c'];

/** sha256 of the sources, as the stamp beside the addon records what it was built from. */
const sourcesHash = (): string => {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(readFileSync(join(SOURCE_DIR, f)));
  return h.digest('hex');
};
/** The stamp file beside the addon: the sha256 of the sources it was built from. */
const stampPath = (root: string): string => `${mallocAddonPath(root)}.sha256`;

/** True when the addon is there, built from the sources as they are now (its stamp). */
export function mallocAddonBuilt(root: string): boolean {
  const stamp = stampPath(root);
  return existsSync(mallocAddonPath(root)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === sourcesHash();
}

/**
 * Step body: `node-gyp rebuild` of the sources copied to `<cache>/malloc-addon` (Node's headers
 * from the preflight), output log in `<cache>/logs/malloc-build.log`, the product copied to
 * mallocAddonPath(root), with a stamp of the sources' sha256 beside it. Skipped when mallocAddonBuilt.
 * @throws StepFailure with the log's last lines.
 */
export async function buildMallocAddon(o: NativeBuildOptions, tools: HostTools): Promise<string> {
  const out = mallocAddonPath(o.root);
  if (!o.force && mallocAddonBuilt(o.root)) return `${out} already built`;
  const dir = join(o.cacheDir, 'malloc-addon');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of SOURCES) copyFileSync(join(SOURCE_DIR, f), join(dir, f));
  const gyp = tools.nodeGyp ? [process.execPath, tools.nodeGyp] : ['node-gyp'];
  const args = [...gyp.slice(1), 'rebuild', ...(tools.nodedir ? [`--nodedir=${tools.nodedir}`] : [])];
  const env = { ...o.env, PATH: [join(o.root, 'node_modules/.bin'), o.env.PATH ?? ''].join(delimiter) };
  const r = await runChild(gyp[0], args, dir, env);
  const logFile = join(o.cacheDir, 'logs', 'malloc-build.log');
  mkdirSync(join(o.cacheDir, 'logs'), { recursive: true });
  writeFileSync(logFile, r.output);
  const built = join(dir, 'build', 'Release', 'lionctr_malloc.node');
  if (r.status !== 0 || !existsSync(built)) {
    const why = r.status !== 0 ? `exited ${r.status ?? 'by signal'}` : 'left no build/Release/lionctr_malloc.node';
    throw new StepFailure('LIONCTR_UNAVAILABLE', `node-gyp ${why} (log ${logFile}): ${lastLines(r.output)}`);
  }
  mkdirSync(join(o.root, 'node_modules', '.lionctr'), { recursive: true });
  copyFileSync(built, out);
  writeFileSync(stampPath(o.root), sourcesHash());
  return `built ${out} (log ${logFile})`;
}
