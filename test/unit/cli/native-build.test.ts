/**
 * The steps of `lionctr native build` (src/cli/native/) on small stand-ins: a failure names its
 * step and keeps its error code; the preflight names every missing tool; a cached wheel is used
 * without pip; a wheel's libraries and headers are extracted once; tfjs-node's deps/ is filled
 * with the names its installer and binding.gyp expect, and a second fill changes nothing.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPS_LINKS, fillDeps } from '../../../src/cli/native/addon.ts';
import { preflight } from '../../../src/cli/native/host.ts';
import { type NativeBuildOptions, runSteps, StepFailure } from '../../../src/cli/native/steps.ts';
import { extractWheel, fetchWheel, wheelPrefix } from '../../../src/cli/native/wheel.ts';
import { useFixture } from '../../helpers/fixture.ts';

const fx = useFixture();

/** Build options rooted in a fresh temp dir; `env` defaults to this process's. */
function options(over: Partial<NativeBuildOptions> = {}): NativeBuildOptions {
  const root = fx.tempDir('native');
  return {
    root,
    cacheDir: join(root, 'cache'),
    wheelSpec: 'tensorflow-cpu==2.21.0',
    force: false,
    log: () => {},
    env: process.env,
    ...over,
  };
}

/** A stand-in wheel (a zip) at `path` holding `members` (name -> text), written with python3's zipfile. */
function fakeWheel(path: string, members: Record<string, string>): void {
  const py =
    'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\n' +
    'for n, t in json.loads(sys.argv[2]).items(): z.writestr(n, t)\nz.close()';
  execFileSync('python3', ['-c', py, path, JSON.stringify(members)]);
}

const WHEEL_MEMBERS = {
  'tensorflow/libtensorflow_cc.so.2': 'cc',
  'tensorflow/libtensorflow_framework.so.2': 'fw',
  'tensorflow/include/tensorflow/c/c_api.h': '/* c api */',
  'tensorflow/include/tensorflow/c/eager/c_api.h': '/* eager */',
  'tensorflow/python/unused.py': '',
};

describe('native build steps', () => {
  it('a failing step is named with its number and keeps its code', async () => {
    const log: string[] = [];
    const steps = [
      { name: 'first', run: async () => 'did one' },
      {
        name: 'second',
        run: async () => {
          throw new StepFailure('LIONCTR_BAD_INPUT', 'no such file');
        },
      },
      { name: 'third', run: async () => 'never' },
    ];
    const err = await runSteps(steps, (l) => log.push(l)).catch((e) => e);
    expect(err.code).toBe('LIONCTR_BAD_INPUT');
    expect(err.message).toBe('native build step 2/3 (second) failed: no such file');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^native build step 1\/3 \(first\): did one \[\d+\.\d s\]$/);
  });

  it('the preflight names every missing tool', async () => {
    const o = options({ env: { PATH: '/nonexistent', HOME: '/nonexistent' } });
    const err = await preflight(o).catch((e) => e);
    expect(err).toBeInstanceOf(StepFailure);
    for (const tool of ['python3', 'pip', 'make', 'C++ compiler']) expect(err.message).toContain(tool);
  });

  it('wheel specs map to PEP 427 file name prefixes; a malformed one is a config error', () => {
    expect(wheelPrefix('tensorflow-cpu==2.21.0')).toBe('tensorflow_cpu-2.21.0-');
    expect(() => wheelPrefix('tensorflow-cpu>=2')).toThrow(/not name==version/);
  });

  it('a cached wheel is used without pip; a missing --wheel file is bad input', async () => {
    const o = options({ env: { PATH: '/nonexistent' } });
    const wheel = join(o.cacheDir, 'wheels', 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
    mkdirSync(join(o.cacheDir, 'wheels'), { recursive: true });
    writeFileSync(wheel, '');
    expect(await fetchWheel(o)).toEqual({ wheel, did: `cached ${wheel}` });
    const err = await fetchWheel({ ...o, wheelFile: join(o.root, 'none.whl') }).catch((e) => e);
    expect(err.code).toBe('LIONCTR_BAD_INPUT');
  });

  it("extracts the wheel's libraries and headers once, and refuses a wheel without them", async () => {
    const o = options();
    const wheel = join(o.root, 'tensorflow_cpu-2.21.0-cp311-none-any.whl');
    fakeWheel(wheel, WHEEL_MEMBERS);
    const first = await extractWheel(o, wheel);
    expect(first.did).toMatch(/^extracted 4 files into /);
    expect(existsSync(join(first.dir, 'lib/libtensorflow_cc.so.2'))).toBe(true);
    expect(existsSync(join(first.dir, 'include/tensorflow/c/eager/c_api.h'))).toBe(true);
    expect(existsSync(join(first.dir, 'include/tensorflow/python'))).toBe(false);
    expect((await extractWheel(o, wheel)).did).toMatch(/^already extracted/);

    const bad = join(o.root, 'tensorflow_cpu-9.9.9-cp311-none-any.whl');
    fakeWheel(bad, { 'tensorflow/include/tensorflow/c/c_api.h': '' });
    const err = await extractWheel(o, bad).catch((e) => e);
    expect(err.message).toContain('the wheel holds no tensorflow/libtensorflow_cc.so.2');
  });

  it("fills tfjs-node's deps/ with hard links and the expected link names, once", async () => {
    const o = options();
    const wheel = join(o.root, 'tensorflow_cpu-2.21.0-cp311-none-any.whl');
    fakeWheel(wheel, WHEEL_MEMBERS);
    const { dir } = await extractWheel(o, wheel);
    mkdirSync(join(o.root, 'node_modules/@tensorflow/tfjs-node'), { recursive: true });
    expect(fillDeps(o, dir)).toMatch(/\(7 entries changed\)$/);
    const lib = join(o.root, 'node_modules/@tensorflow/tfjs-node/deps/lib');
    expect(statSync(join(lib, 'libtensorflow_cc.so.2')).ino).toBe(statSync(join(dir, 'lib/libtensorflow_cc.so.2')).ino);
    for (const [name, target] of Object.entries(DEPS_LINKS)) expect(readlinkSync(join(lib, name))).toBe(target);
    const include = join(o.root, 'node_modules/@tensorflow/tfjs-node/deps/include');
    expect(lstatSync(include).isSymbolicLink()).toBe(true);
    expect(existsSync(join(include, 'tensorflow/c/c_api.h'))).toBe(true);
    expect(fillDeps(o, dir)).toMatch(/already filled$/);
    // a wrong link is put right, and only it
    const wrong = join(lib, 'libtensorflow.so.2.9.1');
    execFileSync('rm', [wrong]);
    symlinkSync('elsewhere', wrong);
    expect(fillDeps(o, dir)).toMatch(/\(1 entries changed\)$/);
    expect(readlinkSync(wrong)).toBe('libtensorflow_cc.so.2');
  });

  it.skipIf(!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(tmpdir()).dev)(
    'copies the libraries when the cache is on another file system, once',
    async () => {
      const shm = mkdtempSync('/dev/shm/lionctr-native-');
      try {
        const o = options({ cacheDir: shm });
        const wheel = join(o.root, 'tensorflow_cpu-2.21.0-cp311-none-any.whl');
        fakeWheel(wheel, WHEEL_MEMBERS);
        const { dir } = await extractWheel(o, wheel);
        mkdirSync(join(o.root, 'node_modules/@tensorflow/tfjs-node'), { recursive: true });
        expect(fillDeps(o, dir)).toMatch(/\(7 entries changed\)$/);
        const copy = join(o.root, 'node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow_cc.so.2');
        expect(readFileSync(copy, 'utf8')).toBe('cc');
        expect(fillDeps(o, dir)).toMatch(/already filled$/);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    },
  );
});
