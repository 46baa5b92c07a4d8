/**
 * The addon side of `lionctr native build`: filling @tensorflow/tfjs-node's `deps/` with the
 * wheel's library and headers under the names its binding.gyp and installer expect, building
 * `tfjs_binding.node` from source with node-pre-gyp (no prebuilt download attempted), and
 * probing, in a child process, that the native backend loads and computes.
 */
import { createRequire } from 'node:module';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import type { HostTools } from './host.ts';
import { tfjsNodeDir } from './host.ts';
import { lastLines, type NativeBuildOptions, runChild, StepFailure } from './steps.ts';
import { WHEEL_LIBS } from './wheel.ts';

/**
 * Link names in deps/lib -> their target. `libtensorflow.so.2.9.1` is the file tfjs-node's
 * installer looks for (present: no download); binding.gyp links `-ltensorflow
 * -ltensorflow_framework` and loads them through rpath `$ORIGIN/../../deps/lib`.
 */
export const DEPS_LINKS: Record<string, string> = {
  'libtensorflow.so': 'libtensorflow_cc.so.2',
  'libtensorflow.so.2.9.1': 'libtensorflow_cc.so.2',
  'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
  'libtensorflow_framework.so.2.9.1': 'libtensorflow_framework.so.2',
};

/** True when `path` is a symlink reading `target`. */
const linksTo = (path: string, target: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink() && readlinkSync(path) === target;
  } catch {
    return false;
  }
};

/**
 * True when `a` and `b` are the same file (hard link) or the same size and modification time to
 * the millisecond (a copy: fillDeps sets the copy's time, at the millisecond precision utimes keeps).
 */
const sameFile = (a: string, b: string): boolean => {
  if (!existsSync(b)) return false;
  const [sa, sb] = [statSync(a), statSync(b)];
  return (sa.ino === sb.ino && sa.dev === sb.dev) || (sa.size === sb.size && Math.abs(sa.mtimeMs - sb.mtimeMs) < 1);
};

/**
 * Fills `<tfjs-node>/deps/`: the two libraries hard-linked from `extracted/lib` (copied when
 * the cache is on another file system; either way deleting the cache later breaks nothing),
 * the link names of DEPS_LINKS, and `deps/include` -> `extracted/include` (needed only while
 * building). Leaves what is already right alone. @returns how many entries it changed.
 */
export function fillDeps(o: NativeBuildOptions, extracted: string): string {
  const deps = join(tfjsNodeDir(o.root), 'deps');
  const lib = join(deps, 'lib');
  mkdirSync(lib, { recursive: true });
  let changed = 0;
  for (const name of WHEEL_LIBS) {
    const [src, dest] = [join(extracted, 'lib', name), join(lib, name)];
    if (sameFile(src, dest)) continue;
    rmSync(dest, { force: true });
    try {
      linkSync(src, dest);
    } catch {
      copyFileSync(src, dest);
      const { atime, mtime } = statSync(src);
      utimesSync(dest, atime, mtime); // so that sameFile knows the copy next time
    }
    changed++;
  }
  const links: [string, string][] = [
    ...Object.entries(DEPS_LINKS).map(([n, t]): [string, string] => [join(lib, n), t]),
    [join(deps, 'include'), join(extracted, 'include')],
  ];
  for (const [path, target] of links) {
    if (linksTo(path, target)) continue;
    rmSync(path, { recursive: true, force: true });
    symlinkSync(target, path);
    changed++;
  }
  return changed ? `filled ${deps} (${changed} entries changed)` : `${deps} already filled`;
}

/** The built addons `lib/napi-v*\/tfjs_binding.node` under tfjs-node. */
const builtAddons = (dir: string): string[] =>
  existsSync(join(dir, 'lib'))
    ? readdirSync(join(dir, 'lib'))
        .map((d) => join(dir, 'lib', d, 'tfjs_binding.node'))
        .filter((f) => existsSync(f))
    : [];

/**
 * Builds tfjs_binding.node: `node-pre-gyp install --build-from-source` in tfjs-node's folder,
 * with node-gyp and Node's headers from the preflight, `node_modules/.bin` on PATH, make -j
 * (JOBS=max unless set). The whole
 * output goes to `<cache>/logs/addon-build.log`. @throws StepFailure with its last lines.
 */
export async function buildAddon(o: NativeBuildOptions, tools: HostTools): Promise<string> {
  const dir = tfjsNodeDir(o.root);
  const preGyp = join(
    createRequire(join(dir, 'package.json')).resolve('@mapbox/node-pre-gyp/package.json'),
    '../bin/node-pre-gyp',
  );
  for (const f of builtAddons(dir)) rmSync(f);
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    PATH: [join(o.root, 'node_modules/.bin'), o.env.PATH ?? ''].join(delimiter),
    JOBS: o.env.JOBS ?? 'max', // node-gyp's make -j
    ...(tools.nodedir ? { npm_config_nodedir: tools.nodedir } : {}),
    ...(tools.nodeGyp ? { npm_config_node_gyp: tools.nodeGyp } : {}),
  };
  const r = await runChild(process.execPath, [preGyp, 'install', '--build-from-source'], dir, env);
  const logFile = join(o.cacheDir, 'logs', 'addon-build.log');
  mkdirSync(join(o.cacheDir, 'logs'), { recursive: true });
  writeFileSync(logFile, r.output);
  const built = builtAddons(dir);
  if (r.status !== 0 || built.length === 0) {
    const why = r.status !== 0 ? `exited ${r.status ?? 'by signal'}` : 'left no lib/napi-v*/tfjs_binding.node';
    throw new StepFailure('LIONCTR_UNAVAILABLE', `node-pre-gyp ${why} (log ${logFile}): ${lastLines(r.output)}`);
  }
  return `built ${built.join(', ')} (log ${logFile})`;
}

/** What the probe found: tfjs-node's backend name and the tfjs-core version it runs on. */
export interface ProbeResult {
  backend: string;
  core: string;
}

/**
 * A child process that loads @tensorflow/tfjs-node from `root` and checks a 2x2 matmul
 * ([[1,2],[3,4]]^2 = [[7,10],[15,22]]) on it. Never throws.
 * @returns the result, or the error's last lines when it does not load or computes wrongly.
 */
export async function probeNative(root: string, env: NodeJS.ProcessEnv): Promise<ProbeResult | { error: string }> {
  const js = `const tf = require('@tensorflow/tfjs-node');
const a = tf.tensor2d([[1, 2], [3, 4]]);
const v = Array.from(a.matMul(a).dataSync());
if (v.join() !== '7,10,15,22') throw new Error('matmul gave ' + v.join());
process.stdout.write(JSON.stringify({ backend: tf.getBackend(), core: tf.version['tfjs-core'] }));`;
  const r = await runChild(process.execPath, ['-e', js], root, { TF_CPP_MIN_LOG_LEVEL: '2', ...env }).catch(
    (e: Error) => ({ status: 1, output: e.message }),
  );
  if (r.status !== 0) return { error: lastLines(r.output, 3) };
  try {
    return JSON.parse(r.output.slice(r.output.lastIndexOf('{"backend"'))) as ProbeResult;
  } catch {
    return { error: `unexpected probe output: ${lastLines(r.output, 3)}` };
  }
}

/** Step body: the probe must report backend `tensorflow`. @throws StepFailure otherwise. */
export async function verifyNative(o: NativeBuildOptions): Promise<string> {
  const p = await probeNative(o.root, o.env);
  if ('error' in p) throw new StepFailure('LIONCTR_UNAVAILABLE', `@tensorflow/tfjs-node does not load: ${p.error}`);
  if (p.backend !== 'tensorflow') {
    throw new StepFailure('LIONCTR_UNAVAILABLE', `@tensorflow/tfjs-node runs backend ${p.backend}, not tensorflow`);
  }
  return `@tensorflow/tfjs-node loads: backend tensorflow, tfjs-core ${p.core}, matmul checked`;
}
