/**
 * Issue 17: a diverged trainer does not take `run`'s endpoint down. A good run leaves an export
 * and a checkpoint; `run` resumed from them with every learning rate at 1e38 diverges on its
 * first steps (LIONCTR_DIVERGED after train.maxNonfiniteSteps). Wanted: the process keeps
 * serving the good version (every prediction answered), /readyz stays 200 and says
 * `training: "diverged: ..."`, and the trainer is not restarted (from its last good checkpoint
 * it would diverge again): lionctr_train_restarts_total stays 0, lionctr_train_up 0.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { cli } from '../helpers/kafka-process.ts';
import { freePort, get, metric, predictLoop, quickRunSets, sleep, spawnRun, until } from '../helpers/run-process.ts';

const fx = useFixture();

describe('run with a trainer that diverges', () => {
  it('keeps serving the last good version, says training diverged, and does not restart it', async () => {
    const dir = fx.tempDir('rundiverged');
    const exportDir = join(dir, 'exports');
    const model = { 'train.batchSize': 256, 'model.hidden': [16], 'schema.embeddingDim': 4 };
    const sets = (o: Record<string, unknown>) =>
      Object.entries(o).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]);
    const good = cli(
      'train',
      '--max-examples',
      '2000',
      ...sets({ ...model, 'export.dir': exportDir, 'log.level': 'warn' }),
    );
    expect(good.status, good.stderr).toBe(0);

    const port = await freePort();
    const lr = Object.fromEntries(['dense', 'embedding', 'linear', 'bias'].map((g) => [`optim.${g}.lr`, 1e38]));
    const run = spawnRun(
      quickRunSets(port, {
        ...model,
        ...lr,
        'export.dir': exportDir,
        'train.maxNonfiniteSteps': 2,
        'run.restartBackoffSeconds.min': 0.2,
      }),
      fx,
    );
    await until('the good version served', async () => (await get(port, '/readyz')).status === 200, 90_000);
    const good1 = (await get(port, '/readyz')).body.model_version;
    const load = predictLoop(port);
    await until(
      '/readyz saying training diverged',
      async () => String((await get(port, '/readyz')).body.training).startsWith('diverged:'),
      60_000,
    );
    await sleep(2000); // a restart would come after 0.2 s
    const ready = await get(port, '/readyz');
    const restarts = await metric(port, 'lionctr_train_restarts_total');
    const up = await metric(port, 'lionctr_train_up');
    const stats = await load.stop();
    run.c.kill('SIGTERM');
    const code = await run.exited;
    console.log(
      `run diverged: ${stats.requests} predictions, ${stats.failed} failed; /readyz ${JSON.stringify(ready.body)}`,
    );
    expect(stats.failed, stats.reasons.join(' | ')).toBe(0);
    expect(ready.status).toBe(200);
    expect(ready.body.model_version).toBe(good1);
    expect(String(ready.body.training)).toMatch(/^diverged: \[LIONCTR_DIVERGED\] .*not restarted/);
    expect(restarts).toBe(0);
    expect(up).toBe(0);
    expect(code, run.log().slice(-2000)).toBe(0);
  }, 240_000);
});
