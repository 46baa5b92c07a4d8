/**
 * The host side of `lionctr native build`: checking that the tools the build needs are there
 * (python3 and pip, make, a C++ compiler, Node's headers, node-gyp), and putting
 * @tensorflow/tfjs-node into node_modules without its install script (which would download
 * libtensorflow) and without touching package.json or package-lock.json.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { mustRun, type NativeBuildOptions, runChild, StepFailure } from './steps.ts';

/** What the preflight found, for the later steps. */
export interface HostTools {
  /** Folder holding include/node/node_api.h (node-gyp's --nodedir), or undefined for node-gyp's own cache. */
  nodedir?: string;
  /** node-gyp's entry script (run with node), or undefined to let node-pre-gyp find `node-gyp` on PATH. */
  nodeGyp?: string;
}

/** The first existing file among `paths`. */
const firstExisting = (paths: (string | undefined)[]): string | undefined =>
  paths.find((p): p is string => !!p && existsSync(p));

/** True when an executable named `name` is on `env.PATH`. */
const onPath = (name: string, env: NodeJS.ProcessEnv): boolean =>
  (env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, name)));

/**
 * Checks the host: Linux (the wheel holds `.so` libraries), python3 (+ pip unless a wheel file
 * is given), make, a C++ compiler (`$CXX` or c++), Node's headers and node-gyp.
 * @throws StepFailure naming every missing tool and how to get it.
 */
export async function preflight(o: NativeBuildOptions): Promise<HostTools> {
  if (process.platform !== 'linux') {
    throw new StepFailure('LIONCTR_UNAVAILABLE', `only Linux is supported (this is ${process.platform})`);
  }
  const missing: string[] = [];
  const probe = async (what: string, cmd: string, args: string[]) => {
    const r = await runChild(cmd, args, o.root, o.env).catch(() => undefined);
    if (r?.status !== 0) missing.push(what);
  };
  await probe('python3 (to read the wheel)', 'python3', ['--version']);
  if (!o.wheelFile)
    await probe('pip (python3 -m pip, for the wheel; or give --wheel FILE)', 'python3', ['-m', 'pip', '--version']);
  await probe('make', 'make', ['--version']);
  const cxx = o.env.CXX || 'c++';
  await probe(`a C++ compiler (${cxx}; set CXX)`, cxx, ['--version']);
  const prefix = dirname(dirname(process.execPath));
  const nodedir = firstExisting([o.env.npm_config_nodedir, prefix].map((d) => d && join(d, 'include/node/node_api.h')));
  const gypCache = join(o.env.HOME ?? '', '.cache/node-gyp', process.versions.node, 'include/node/node_api.h');
  if (!nodedir && !existsSync(gypCache)) {
    const hint = "install your distribution's Node development package or set npm_config_nodedir";
    missing.push(`Node's headers (include/node/node_api.h under ${prefix}; ${hint})`);
  }
  const nodeGyp = firstExisting([
    o.env.npm_config_node_gyp,
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]);
  if (!nodeGyp && !onPath('node-gyp', o.env)) missing.push('node-gyp (comes with npm; or set npm_config_node_gyp)');
  if (missing.length) throw new StepFailure('LIONCTR_UNAVAILABLE', `missing: ${missing.join('; ')}`);
  return { nodedir: nodedir && dirname(dirname(dirname(nodedir))), nodeGyp };
}

/** The `version` of `<root>/node_modules/<pkg>/package.json`, or undefined when not installed. */
export function installedVersion(root: string, pkg: string): string | undefined {
  const file = join(root, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Folder of @tensorflow/tfjs-node under `root`. */
export const tfjsNodeDir = (root: string): string => join(root, 'node_modules/@tensorflow/tfjs-node');

/**
 * Installs @tensorflow/tfjs-node at @tensorflow/tfjs-core's version (they share one tfjs
 * engine only when equal) with `npm install --no-save --ignore-scripts`: package.json and
 * package-lock.json stay as they are, and the download script does not run. Skipped when that
 * version is already there. The lockfile's optional @tensorflow/tfjs-node-gpu, which a normal
 * install drops when its download fails, comes back without its addon under --ignore-scripts:
 * it is removed again when this step brought it. @throws StepFailure when tfjs-core is missing, npm fails, or the
 * installed copy would bring its own tfjs-core.
 */
export async function installTfjsNode(o: NativeBuildOptions): Promise<string> {
  const core = installedVersion(o.root, '@tensorflow/tfjs-core');
  if (!core) throw new StepFailure('LIONCTR_UNAVAILABLE', `@tensorflow/tfjs-core is not installed in ${o.root}`);
  const have = installedVersion(o.root, '@tensorflow/tfjs-node');
  let did = `@tensorflow/tfjs-node@${core} already installed`;
  if (have !== core) {
    const gpu = join(o.root, 'node_modules/@tensorflow/tfjs-node-gpu');
    const hadGpu = existsSync(gpu);
    const npm = o.env.npm_execpath ? [process.execPath, o.env.npm_execpath] : ['npm'];
    const args = [
      'install',
      '--no-save',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      `@tensorflow/tfjs-node@${core}`,
    ];
    await mustRun(`npm ${args.join(' ')}`, npm[0], [...npm.slice(1), ...args], o.root, o.env);
    const now = installedVersion(o.root, '@tensorflow/tfjs-node');
    if (now !== core) {
      throw new StepFailure('LIONCTR_UNAVAILABLE', `npm installed @tensorflow/tfjs-node ${now}, want ${core}`);
    }
    did = `installed @tensorflow/tfjs-node@${core} (--no-save --ignore-scripts)${have ? `, was ${have}` : ''}`;
    if (!hadGpu && existsSync(gpu)) {
      // the lockfile's optional GPU package, put back without its (failing) install script: no addon
      rmSync(gpu, { recursive: true, force: true });
      did += '; removed the unbuilt @tensorflow/tfjs-node-gpu npm put back';
    }
  }
  const ownCore = join(tfjsNodeDir(o.root), 'node_modules/@tensorflow/tfjs-core');
  if (existsSync(ownCore)) {
    throw new StepFailure('LIONCTR_UNAVAILABLE', `${ownCore} exists: tfjs-node would not share lionctr's tfjs engine`);
  }
  return did;
}
