/**
 * @module `npm run faults`: the fault suite of issue 17, bounded in time and on loopback, with a
 * report of what each fault did (the count line each test prints) and whether it held. Each
 * test file runs in a vitest process of its own, one after another, so a fault in one (a
 * killed trainer, a full tmpfs) cannot leak into the next. CI runs the same files at scale 1
 * inside `npm test`; `--scale N` multiplies the kills and durations of the scalable ones
 * (export-kill: 20 N kills per kind; prune-race: 8 N and 5 N seconds of exports back to back).
 *
 *   npm run faults [-- --scale N] [--only name,...] [--list]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

/** The suite: test file (under test/integration) and what fault it injects. */
const SUITE: [file: string, fault: string][] = [
  ['export-kill', 'SIGKILL of an export writer inside full exports, deltas and deletions, serve loading'],
  ['kafka-crash', 'SIGKILL of a Kafka trainer at random moments (exactly once per message)'],
  ['publish-gate-kafka', 'SIGKILL of a Kafka trainer while its publish gate holds rows'],
  ['trainer-full-disk', 'a full disk under a trainer (checkpoint, export, delta writes retried)'],
  ['run-faults', '`lionctr run` on a full disk: serving answers, training resumes'],
  ['run-broker-fault', '`lionctr run` with its broker out of reach: serving answers, trainer restarted'],
  ['broker-fault', 'the Kafka broker stopped and killed -9 during training: nothing lost or repeated'],
  ['run-diverged', '`lionctr run` diverging: the last good version stays served'],
  ['produce-outage', '`lionctr produce` with no broker: its own exit status, retries'],
  ['slow-body', 'slow request bodies and headers: 408 in time, memory freed'],
  ['instance-guard', 'oversized instances (800k keys): refused before parsing'],
  ['export-paths', 'paths out of the export root: nothing outside opened'],
  ['prune-race', 'a trainer pruning exports while serve loads them: 0 failed loads'],
  ['registry-fallback', 'a bad LATEST: the newest version on disk that loads is served'],
];

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run faults [-- --scale N] [--only name,...] [--list]\n' +
      '  runs the fault tests one file at a time and reports each fault with its counts;\n' +
      '  --scale N multiplies kills and durations (LIONCTR_FAULTS_SCALE); exit 1 when any fails',
  );
  process.exit(0);
}
const only = values.only?.split(',');
const picked = SUITE.filter(([f]) => !only || only.includes(f));
if (values.list || picked.length === 0) {
  for (const [f, what] of SUITE) console.log(`${f.padEnd(20)} ${what}`);
  process.exit(picked.length === 0 ? 2 : 0);
}

/** Runs one test file; its exit status, seconds, and the lines its tests printed (vitest's stdout blocks). */
function runFile(file: string): Promise<{ ok: boolean; seconds: number; lines: string[]; tail: string }> {
  const t0 = performance.now();
  const args = ['vitest', 'run', `test/integration/${file}.test.ts`, '--reporter=default'];
  const child = spawn('npx', args, {
    env: { ...process.env, LIONCTR_FAULTS_SCALE: values.scale, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const lines: string[] = [];
      let inBlock = false;
      for (const l of out.split('\n')) {
        if (/^std(out|err) \|/.test(l)) inBlock = l.startsWith('stdout');
        else if (l.trim() === '') inBlock = false;
        else if (inBlock) lines.push(l);
      }
      const tail = out
        .split('\n')
        .filter((l) => /Tests |FAIL|AssertionError|Error:/.test(l))
        .slice(0, 6)
        .join('\n');
      resolve({ ok: code === 0, seconds: (performance.now() - t0) / 1000, lines, tail });
    });
  });
}

console.log(`faults: ${picked.length} files at scale ${values.scale} (load average ${loadavg()[0].toFixed(2)})`);
let failed = 0;
for (const [file, what] of picked) {
  const r = await runFile(file);
  if (!r.ok) failed++;
  console.log(`\n${r.ok ? 'held ' : 'FAILED'} ${file} (${r.seconds.toFixed(0)} s): ${what}`);
  for (const l of r.lines) console.log(`    ${l}`);
  if (!r.ok) console.log(r.tail.replace(/^/gm, '    ! '));
}
console.log(`\nfaults: ${picked.length - failed} of ${picked.length} held (load average ${loadavg()[0].toFixed(2)})`);
process.exit(failed ? 1 : 0);
