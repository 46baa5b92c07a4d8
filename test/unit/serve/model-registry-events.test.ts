import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServeEvents } from '../../../src/events/serve-events.ts';
import { ModelRegistry } from '../../../src/serve/model-registry.ts';

describe('model registry events', () => {
  const root = mkdtempSync(join(tmpdir(), 'lionctr-registry-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('emits loadFailed (version, reason) for a version that does not load, once, and serves nothing', async () => {
    mkdirSync(join(root, '1700000000005'));
    writeFileSync(join(root, '1700000000005', 'manifest.json'), '{ not json');
    writeFileSync(join(root, 'LATEST'), '1700000000005\n');
    const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0);
    const failed: ServeEvents['loadFailed'][] = [];
    const loaded: ServeEvents['loaded'][] = [];
    registry.on('loadFailed', (e) => failed.push(e));
    registry.on('loaded', (e) => loaded.push(e));
    await registry.check();
    await registry.check(); // the same bad version is not retried
    expect(failed).toHaveLength(1);
    expect(failed[0].version).toBe('1700000000005');
    expect(failed[0].message).toBe(registry.lastError?.message);
    expect(loaded).toEqual([]);
    expect(registry.current()).toBeUndefined();
    registry.stop();
  });
});
