/**
 * A fresh `serve` on a bad LATEST (issue 17, "A fresh serve with a bad LATEST serves nothing"):
 * when LATEST holds no version name, the registry serves the newest version on disk that loads
 * and logs why, as it already did for a LATEST naming a corrupt version; once LATEST names a
 * version that loads, that one is served.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { useFixture } from '../helpers/fixture.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

const fx = useFixture();

describe('registry on a bad LATEST', () => {
  it('serves the newest valid version on disk (logged), then follows LATEST once it is good', async () => {
    const root = fx.tempDir('bad-latest');
    const { model } = await tinyTrainedModel(1, 64);
    const meta = { step: 1, examples: 64, sourceOffsets: {}, watermarkMs: null, metrics: {} };
    const a = (await writeExport(root, model, meta, 10)).version;
    const b = (await writeExport(root, model, { ...meta, step: 2 }, 10)).version;
    model.dispose();
    // a newer version that does not load: skipped by the fallback
    const broken = String(Number(b) + 1);
    mkdirSync(join(root, broken));
    writeFileSync(join(root, broken, 'manifest.json'), '{ not json');
    writeFileSync(join(root, 'LATEST'), 'garbage\n');
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const registry = new ModelRegistry(root, pino({ level: 'info' }, sink), 0, { keepVersions: 2 });
    await registry.check();
    expect(registry.current()?.version).toBe(b);
    expect(registry.loaded().map((m) => m.version)).toEqual([b, a]); // filled up to keepVersions
    const warn = lines.filter((l) => l.level === 40);
    expect(warn).toHaveLength(1);
    expect(warn[0].msg).toMatch(/^LATEST: .*LATEST must hold a version number, got "garbage".*; serving version/);
    expect(warn[0].msg).toContain(`serving version ${b}, the newest on disk that loads`);
    expect(registry.lastError?.version).toBe('LATEST');
    // the same bad LATEST again: logged once
    const logged = lines.length;
    await registry.check();
    expect(lines.length).toBe(logged);
    // LATEST good again (moved back to a on purpose): served
    writeFileSync(join(root, 'LATEST'), `${a}\n`);
    await registry.check();
    expect(registry.current()?.version).toBe(a);
    registry.stop();
  });
});
