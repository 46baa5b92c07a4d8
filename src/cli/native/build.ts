/**
 * `lionctr native build` end to end (DESIGN.md "Backends"; README "Air-gapped hosts: the native
 * backend"): the native TensorFlow backend built without downloading anything but the
 * `tensorflow-cpu` wheel from pip's configured (local) index. Steps: preflight, package,
 * wheel, extract, deps, addon, malloc (src/cli/native/malloc-addon.ts), verify; each skips work
 * already done. When the backend already loads, only the malloc addon is built if it is missing
 * (preflight, malloc), and nothing when it is there, unless forced.
 */
import { buildAddon, fillDeps, probeNative, verifyNative } from './addon.ts';
import { type HostTools, installTfjsNode, installedVersion, preflight } from './host.ts';
import { buildMallocAddon, mallocAddonBuilt } from './malloc-addon.ts';
import { type NativeBuildOptions, runSteps } from './steps.ts';
import { extractWheel, fetchWheel } from './wheel.ts';

/** What a build did: `built`, or `skipped` because the native backend already loaded. */
export type NativeBuildOutcome = 'built' | 'skipped';

/**
 * Builds the native backend into `o.root`'s node_modules.
 * @throws LionctrError naming the failing step (`native build step i/n (name) failed: ...`):
 *   LIONCTR_UNAVAILABLE for a missing tool or a failing child process, LIONCTR_BAD_INPUT for a
 *   missing `--wheel` file, LIONCTR_BAD_CONFIG for a malformed wheel spec.
 */
export async function buildNative(o: NativeBuildOptions): Promise<NativeBuildOutcome> {
  if (!o.force) {
    const core = installedVersion(o.root, '@tensorflow/tfjs-core');
    const p = await probeNative(o.root, o.env);
    if (!('error' in p) && p.backend === 'tensorflow' && p.core === core) {
      if (mallocAddonBuilt(o.root)) {
        o.log(`native backend already built (tensorflow, tfjs-core ${core}): nothing to do; --force rebuilds`);
        return 'skipped';
      }
      o.log(`native backend already built (tensorflow, tfjs-core ${core}); building the malloc addon`);
      let found: HostTools = {};
      await runSteps(
        [
          {
            name: 'preflight',
            run: async () => {
              found = await preflight(o);
              return 'tools found';
            },
          },
          { name: 'malloc', run: () => buildMallocAddon(o, found) },
        ],
        o.log,
      );
      return 'built';
    }
  }
  let tools: HostTools = {};
  let wheel = '';
  let extracted = '';
  await runSteps(
    [
      {
        name: 'preflight',
        run: async () => {
          tools = await preflight(o);
          return `tools found (node headers: ${tools.nodedir ?? "node-gyp's cache"})`;
        },
      },
      { name: 'package', run: () => installTfjsNode(o) },
      {
        name: 'wheel',
        run: async () => {
          const r = await fetchWheel(o);
          wheel = r.wheel;
          return r.did;
        },
      },
      {
        name: 'extract',
        run: async () => {
          const r = await extractWheel(o, wheel);
          extracted = r.dir;
          return r.did;
        },
      },
      { name: 'deps', run: async () => fillDeps(o, extracted) },
      { name: 'addon', run: () => buildAddon(o, tools) },
      { name: 'malloc', run: () => buildMallocAddon(o, tools) },
      { name: 'verify', run: () => verifyNative(o) },
    ],
    o.log,
  );
  return 'built';
}
