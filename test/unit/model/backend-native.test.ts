/**
 * Loading the native backend (src/model/backend.ts loadNative) with stand-in packages: a package
 * that is missing, or installed without its built addon, is passed over without being loaded,
 * with a reason and the hint to `npm run native:build`; one whose load fails after registering
 * `tensorflow` kernels (a GPU build on a host without CUDA) has them removed, so that the next
 * package registers its own instead of being refused as "already registered". Backend `auto`
 * takes the one `LIONCTR_BACKEND` names (how a test run or CI keeps the suite on wasm). A
 * trainer's TensorFlow intra-op threads (one core left to the ingest thread) reach the package
 * as TF_NUM_INTRAOP_THREADS unless the environment set it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadNative, selectBackend, trainerTfThreads } from '../../../src/model/backend.ts';
import { useFixture } from '../../helpers/fixture.ts';

const fx = useFixture();
const CORE = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core');

/**
 * A stand-in native package in `dir`/`name`: with a (dummy) built addon when `built`; its main
 * registers kernel `kernel` for backend `tensorflow` and then throws `fails` when given.
 */
function fakePackage(dir: string, name: string, o: { built: boolean; kernel?: string; fails?: string }): string {
  const pkg = join(dir, name);
  mkdirSync(join(pkg, 'lib/napi-v8'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
  if (o.built) writeFileSync(join(pkg, 'lib/napi-v8/tfjs_binding.node'), '');
  const register = o.kernel
    ? `require(${JSON.stringify(CORE)}).registerKernel({ kernelName: '${o.kernel}', backendName: 'tensorflow', ` +
      'kernelFunc: () => null });'
    : '';
  writeFileSync(join(pkg, 'index.js'), `${register}\n${o.fails ? `throw new Error(${JSON.stringify(o.fails)});` : ''}`);
  return pkg;
}

describe('loadNative', () => {
  it('passes over a missing package and one without its addon, naming why and how to build it', () => {
    const dir = fx.tempDir('native-pkg');
    const unbuilt = fakePackage(dir, 'unbuilt', { built: false, kernel: 'LionctrProbeA', fails: 'must not load' });
    const err = (() => {
      try {
        loadNative([join(dir, 'absent'), unbuilt]);
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(err?.code).toBe('LIONCTR_UNAVAILABLE');
    expect(err?.message).toContain(`${join(dir, 'absent')}: not installed`);
    expect(err?.message).toContain(`${unbuilt}: installed but its addon is not built`);
    expect(err?.message).toContain('npm run native:build');
    expect(tf.getKernel('LionctrProbeA', 'tensorflow')).toBeUndefined();
  });

  it("removes the kernels of a package whose load failed, so the next one's are registered", () => {
    const dir = fx.tempDir('native-pkg');
    const before = tf.getKernelsForBackend('tensorflow').length;
    const gpu = fakePackage(dir, 'gpu', {
      built: true,
      kernel: 'LionctrProbeB',
      fails: 'libcudart.so.11.0: cannot open',
    });
    const cpu = fakePackage(dir, 'cpu', { built: true, kernel: 'LionctrProbeB' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      loadNative([gpu, cpu]);
      expect(warn.mock.calls.flat().join(' ')).not.toMatch(/already registered/);
    } finally {
      warn.mockRestore();
    }
    expect(tf.getKernel('LionctrProbeB', 'tensorflow')).toBeDefined();
    tf.unregisterKernel('LionctrProbeB', 'tensorflow');
    expect(tf.getKernelsForBackend('tensorflow').length).toBe(before);
  });
});

describe("TensorFlow's intra-op threads", () => {
  it('a trainer with the ingest thread leaves it a core; without it TensorFlow keeps its default', () => {
    expect([1, 2, 4, 16].map((cores) => trainerTfThreads(true, cores))).toEqual([1, 1, 3, 15]);
    expect(trainerTfThreads(false, 2)).toBeUndefined();
  });

  it('loadNative sets TF_NUM_INTRAOP_THREADS before the package loads, unless the environment set it', () => {
    const dir = fx.tempDir('native-pkg');
    const saved = process.env.TF_NUM_INTRAOP_THREADS;
    const seen = (name: string, threads: number | undefined): string | undefined => {
      const pkg = fakePackage(dir, name, { built: true });
      writeFileSync(join(pkg, 'index.js'), 'globalThis.lionctrSeenThreads = process.env.TF_NUM_INTRAOP_THREADS;');
      loadNative([pkg], threads);
      return (globalThis as { lionctrSeenThreads?: string }).lionctrSeenThreads;
    };
    try {
      delete process.env.TF_NUM_INTRAOP_THREADS;
      expect(seen('unset', 1)).toBe('1');
      process.env.TF_NUM_INTRAOP_THREADS = '3';
      expect(seen('user-set', 1)).toBe('3');
      delete process.env.TF_NUM_INTRAOP_THREADS;
      expect(seen('default', undefined)).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
      else process.env.TF_NUM_INTRAOP_THREADS = saved;
    }
  });
});

describe('selectBackend("auto") and LIONCTR_BACKEND', () => {
  it('takes the backend the environment names, and refuses a name that is none', async () => {
    const saved = process.env.LIONCTR_BACKEND;
    try {
      process.env.LIONCTR_BACKEND = 'cpu';
      expect((await selectBackend('auto')).backend).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
      process.env.LIONCTR_BACKEND = 'gpu';
      await expect(selectBackend('auto')).rejects.toThrow(/LIONCTR_BACKEND=gpu names no backend/);
    } finally {
      if (saved === undefined) delete process.env.LIONCTR_BACKEND;
      else process.env.LIONCTR_BACKEND = saved;
    }
  });
});
