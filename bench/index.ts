/**
 * The benchmark runner behind `npm run bench`: runs the speed suite (bench/suite.ts: lionctr
 * against a PyTorch peer) when given no name or only flags, lists the benchmarks of this folder
 * (each a script with its own flags and `--help`), or runs one by name in a child process,
 * passing the remaining arguments on. Exit status: the benchmark's.
 *
 *   npm run bench                              # the suite with its short defaults (a few minutes)
 *   npm run bench -- --batches 4096 --rounds 5 # the suite with flags (npm run bench -- --help)
 *   npm run bench -- --list                    # the list, with each benchmark's first doc line
 *   npm run bench -- throughput --steps 10     # runs bench/throughput.ts --steps 10
 *   npm run bench -- sparse-step --help
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The first sentence of a file's leading doc comment, on one line, cut to ~100 characters ('' when none). */
function firstSentence(text: string): string {
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  const prose = doc
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .join(' ')
    .trim();
  const sentence = /^(.*?\D\.)(\s|$)/.exec(prose)?.[1] ?? prose;
  return sentence.length <= 100 ? sentence : `${sentence.slice(0, sentence.lastIndexOf(' ', 99))} ...`;
}

/** Benchmark names (file names without `.ts`) with the first sentence of each one's doc comment. */
function benchmarks(): { name: string; summary: string }[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
    .sort()
    .map((f) => ({ name: f.slice(0, -3), summary: firstSentence(readFileSync(join(here, f), 'utf8')) }));
}

const args = process.argv.slice(2);
const all = benchmarks();
if (args[0] === '--list' || args[0] === '-l') {
  console.log('usage: npm run bench -- <name> [flags]   (each benchmark takes --help; no name: the suite)\n');
  for (const b of all) console.log(`  ${b.name.padEnd(20)} ${b.summary}`);
  process.exit(0);
}
// no name, or flags only: the suite (its --help lists its flags and how to run one benchmark)
const [name, ...rest] = !args[0] || args[0].startsWith('-') ? ['suite', ...args] : args;
if (!all.some((b) => b.name === name)) {
  console.error(`lionctr bench: no benchmark "${name}" in bench/ (one of: ${all.map((b) => b.name).join(', ')})`);
  process.exit(2);
}
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
const r = spawnSync(tsx, [join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
