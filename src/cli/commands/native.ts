/**
 * `lionctr native build`: builds the native TensorFlow backend (@tensorflow/tfjs-node) from a
 * `tensorflow-cpu` wheel, for hosts without internet (src/cli/native/build.ts; `npm run
 * native:build` runs it from a checkout).
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { buildNative } from '../native/build.ts';
import { DEFAULT_WHEEL_SPEC, defaultCacheDir } from '../native/steps.ts';
import { fatal } from '../common.ts';

/** The package root of this checkout or installed copy (src/cli/commands/../../..). */
const PACKAGE_ROOT = resolve(import.meta.dirname, '../../..');

/** The `native` subcommand: `lionctr native build [--force] [--wheel FILE] [--cache-dir DIR]`. */
export function nativeCommand(): Command {
  const cmd = new Command('native').description('the native TensorFlow backend (@tensorflow/tfjs-node)');
  cmd
    .command('build')
    .description(
      "build @tensorflow/tfjs-node against the tensorflow-cpu wheel from pip's index, not a libtensorflow download; " +
        'idempotent; afterwards backend "auto" picks tensorflow',
    )
    .option('--force', 'rebuild the addon even if the native backend already loads')
    .option('--wheel <file>', 'use this tensorflow-cpu wheel file instead of pip download')
    .option('--wheel-spec <name==version>', 'the wheel pip downloads', DEFAULT_WHEEL_SPEC)
    .option('--cache-dir <dir>', 'cache of the wheel and its extracted files (env LIONCTR_NATIVE_CACHE)')
    .action(async (o: { force?: boolean; wheel?: string; wheelSpec: string; cacheDir?: string }) => {
      try {
        const t0 = performance.now();
        const outcome = await buildNative({
          root: PACKAGE_ROOT,
          cacheDir: resolve(o.cacheDir ?? defaultCacheDir()),
          wheelSpec: o.wheelSpec,
          wheelFile: o.wheel && resolve(o.wheel),
          force: !!o.force,
          log: (line) => process.stdout.write(`${line}\n`),
          env: process.env,
        });
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        process.stdout.write(`native build ${outcome} in ${s} s\n`);
      } catch (err) {
        fatal(err);
      }
    });
  return cmd;
}
