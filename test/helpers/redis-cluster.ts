/**
 * @module A throwaway Redis Cluster for tests: ops/redis/start.sh on a base port of the test's own and
 * a temp data directory (so that it neither meets the default cluster on 17000 nor another test's),
 * and the means to kill one of its masters (SIGKILL, as a crash).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const OPS = resolve(import.meta.dirname, '../../ops/redis');

/** Why a cluster cannot be started here (redis-server or redis-cli missing), or null. */
export function redisMissing(): string | null {
  for (const tool of ['redis-server', 'redis-cli']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `${tool} not found (Debian: apt-get install -y redis-server)`;
  }
  return null;
}

/** A running test cluster: its nodes (host:port), and stop. */
export interface TestCluster {
  nodes: string[];
  dataDir: string;
  /** The pid of the node on `port` (its pid file). */
  pidOf(port: number): number;
  /** Stops the nodes and removes the data directory. */
  stop(): void;
}

/** Starts 3 masters + 3 replicas on basePort..basePort+5. @throws when start.sh fails (its output). */
export function startCluster(basePort: number): TestCluster {
  // a test run killed before its afterAll left its nodes on these ports: stop them first
  for (const d of readdirSync(tmpdir()).filter((n) => n.startsWith('lionctr-redis-'))) {
    const dir = join(tmpdir(), d);
    if (!existsSync(join(dir, 'base_port')) || readFileSync(join(dir, 'base_port'), 'utf8').trim() !== `${basePort}`)
      continue;
    spawnSync(join(OPS, 'stop.sh'), [], { encoding: 'utf8', env: { ...process.env, REDIS_DATA_DIR: dir } });
    rmSync(dir, { recursive: true, force: true });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'lionctr-redis-'));
  const env = { ...process.env, REDIS_DATA_DIR: dataDir };
  const r = spawnSync(join(OPS, 'start.sh'), [String(basePort)], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`ops/redis/start.sh ${basePort} failed: ${r.stdout}${r.stderr}`);
  return {
    nodes: Array.from({ length: 6 }, (_, i) => `127.0.0.1:${basePort + i}`),
    dataDir,
    pidOf: (port) => Number(readFileSync(join(dataDir, String(port), 'redis.pid'), 'utf8')),
    stop: () => {
      spawnSync(join(OPS, 'stop.sh'), [], { encoding: 'utf8', env });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
