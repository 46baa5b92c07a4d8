/**
 * The Python of the reproduction test (test/python/repro.py) and of the scikit-learn AUC check
 * (test/python/auc_check.py): LIONCTR_PYTHON when set, else
 * the repository's .venv-py (made by .ci/run), else a .venv-py made here from
 * test/python/requirements.txt with pip's configured index (a local one on the dev machines;
 * retries off, so an unreachable index fails in seconds, not minutes). Says why when there is
 * none; the test skips then, and fails under CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
/** The venv .ci/run makes and this helper makes when it is absent. */
export const VENV = join(ROOT, '.venv-py');
export const REQUIREMENTS = join(ROOT, 'test/python/requirements.txt');

/** A usable interpreter, or why there is none; `createdSeconds` when this call made the venv. */
export interface PythonChoice {
  python: string | null;
  why: string;
  createdSeconds?: number;
}

const lastLines = (e: unknown): string => {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim().split('\n').slice(-3).join(' | ');
};

/** The modules repro.py imports (the default of findPython). */
export const REPRO_MODULES = ['numpy', 'pyarrow', 'onnxruntime', 'xxhash'];

/** Whether `python` imports every one of `modules`; the error's last lines when not. */
async function usable(python: string, modules: string[]): Promise<string | null> {
  try {
    await run(python, ['-c', `import ${modules.join(', ')}`], { timeout: 60_000 });
    return null;
  } catch (e) {
    return lastLines(e);
  }
}

/**
 * Finds (or makes) an interpreter that imports `modules` (default: repro.py's; the made venv has all
 * of requirements.txt); never throws.
 */
export async function findPython(modules = REPRO_MODULES): Promise<PythonChoice> {
  const explicit = process.env.LIONCTR_PYTHON;
  if (explicit) {
    const bad = await usable(explicit, modules);
    return bad
      ? { python: null, why: `LIONCTR_PYTHON=${explicit} cannot import ${modules.join(', ')}: ${bad}` }
      : { python: explicit, why: '' };
  }
  const venvPython = join(VENV, 'bin/python');
  if (existsSync(venvPython) && !(await usable(venvPython, modules))) return { python: venvPython, why: '' };
  const t0 = performance.now();
  const tmp = `${VENV}.tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', tmp], { timeout: 120_000 });
    const pip = ['-m', 'pip', 'install', '-q', '--retries', '0', '--timeout', '30', '-r', REQUIREMENTS];
    await run(join(tmp, 'bin/python'), pip, { timeout: 600_000 });
    await rm(VENV, { recursive: true, force: true });
    await rename(tmp, VENV);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    return {
      python: null,
      why: `cannot make ${VENV} (python3 -m venv; pip install -r ${REQUIREMENTS}): ${lastLines(e)}`,
    };
  }
  const bad = await usable(venvPython, modules);
  if (bad) return { python: null, why: `${VENV} was made but cannot import ${modules.join(', ')}: ${bad}` };
  return { python: venvPython, why: '', createdSeconds: (performance.now() - t0) / 1000 };
}
