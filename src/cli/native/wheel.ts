/**
 * The wheel side of `lionctr native build`: fetching the `tensorflow-cpu` wheel from pip's
 * configured index (the local one on air-gapped hosts) into the cache, and extracting from it,
 * once, the TensorFlow C API library (`tensorflow/libtensorflow_cc.so.2`, which exports the
 * TF_* / TFE_* functions), `libtensorflow_framework.so.2` and the headers (`tensorflow/include/`).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mustRun, type NativeBuildOptions, StepFailure } from './steps.ts';

/** The libraries taken from the wheel's `tensorflow/` folder into `lib/`. */
export const WHEEL_LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'] as const;

/** Marker written last into an extracted folder: its presence means the extraction finished. */
const DONE = '.extracted';

/** The wheel file name prefix of a `name==version` requirement (PEP 427: `-` and `.` become `_`). */
export function wheelPrefix(spec: string): string {
  const m = /^([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)$/.exec(spec.trim());
  if (!m) throw new StepFailure('LIONCTR_BAD_CONFIG', `wheel spec ${JSON.stringify(spec)} is not name==version`);
  return `${m[1].replace(/[-_.]+/g, '_').toLowerCase()}-${m[2]}-`;
}

/** The cached wheel of `spec` in `dir`, if any. */
const cachedWheel = (dir: string, prefix: string): string | undefined => {
  if (!existsSync(dir)) return undefined;
  const hit = readdirSync(dir).find((f) => f.toLowerCase().startsWith(prefix) && f.endsWith('.whl'));
  return hit && join(dir, hit);
};

/**
 * The wheel to build from: `--wheel FILE` when given, else the one cached under
 * `<cache>/wheels/`, else `python3 -m pip download --no-deps --only-binary=:all:` of
 * `wheelSpec` into that folder. @returns the wheel's path and what was done.
 * @throws StepFailure when the given file is missing or pip fails (its last output lines).
 */
export async function fetchWheel(o: NativeBuildOptions): Promise<{ wheel: string; did: string }> {
  if (o.wheelFile) {
    if (!existsSync(o.wheelFile)) throw new StepFailure('LIONCTR_BAD_INPUT', `wheel ${o.wheelFile} does not exist`);
    return { wheel: o.wheelFile, did: `using ${o.wheelFile}` };
  }
  const dir = join(o.cacheDir, 'wheels');
  const prefix = wheelPrefix(o.wheelSpec);
  const have = cachedWheel(dir, prefix);
  if (have) return { wheel: have, did: `cached ${have}` };
  mkdirSync(dir, { recursive: true });
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--progress-bar', 'off', '-d', dir];
  await mustRun(`pip download ${o.wheelSpec}`, 'python3', [...args, o.wheelSpec], o.root, o.env);
  const got = cachedWheel(dir, prefix);
  if (!got) throw new StepFailure('LIONCTR_UNAVAILABLE', `pip download left no ${prefix}*.whl in ${dir}`);
  return { wheel: got, did: `downloaded ${got}` };
}

/**
 * Python (standard library only) that copies the libraries and headers out of the wheel
 * (argv[1]) into argv[2]/lib and argv[2]/include, streaming (the C API library is ~800 MB).
 */
const EXTRACT_PY = `
import os, shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = ${JSON.stringify(WHEEL_LIBS.map((l) => `tensorflow/${l}`))}
inc = 'tensorflow/include/'
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    gone = [n for n in libs if n not in names]
    if gone:
        sys.exit('the wheel holds no ' + ', '.join(gone))
    todo = [(n, os.path.join(out, 'lib', os.path.basename(n))) for n in libs]
    todo += [(n, os.path.join(out, 'include', n[len(inc):])) for n in names
             if n.startswith(inc) and not n.endswith('/')]
    for name, dest in todo:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(name) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
print(len(todo))
`;

/**
 * Extracts the C API libraries and headers of `wheel` into `<cache>/<wheel name>/{lib,include}`
 * (via a temporary folder renamed when complete), unless done before. @returns that folder.
 * @throws StepFailure when python fails or the wheel lacks the libraries.
 */
export async function extractWheel(o: NativeBuildOptions, wheel: string): Promise<{ dir: string; did: string }> {
  const dir = join(o.cacheDir, basename(wheel).replace(/\.whl$/, ''));
  if (existsSync(join(dir, DONE))) return { dir, did: `already extracted in ${dir}` };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const out = await mustRun(`extracting ${wheel}`, 'python3', ['-c', EXTRACT_PY, wheel, tmp], o.root, o.env);
  const headers = join(tmp, 'include/tensorflow/c/c_api.h');
  if (!existsSync(headers))
    throw new StepFailure('LIONCTR_UNAVAILABLE', `${wheel} holds no tensorflow/include/tensorflow/c/c_api.h`);
  mkdirSync(join(tmp, DONE));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, did: `extracted ${out.trim()} files into ${dir}` };
}
