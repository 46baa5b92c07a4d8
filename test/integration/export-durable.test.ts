/**
 * Exports are durable before they are visible (issue 11; DESIGN.md "Exports and serving"): every
 * file of a version, its directories, LATEST and the exports root are fsynced, as checkpoints
 * are. Counted by spying on FileHandle.sync, the call behind fsync in node:fs/promises.
 */
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeExport } from '../../src/train/export-writer.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

describe('export durability', () => {
  let dir: string;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-durable-'));
    trained = await tinyTrainedModel(1);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    trained.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('fsyncs every file, its directories, LATEST and the root before and after the renames', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    await rm(join(dir, 'probe'));
    const synced: string[] = [];
    const sync = vi.spyOn(FileHandle, 'sync');
    sync.mockImplementation(async function (this: { fd: number }) {
      synced.push(String(this.fd));
    });
    const { version } = await writeExport(dir, trained.model, {
      step: 1,
      examples: 1,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    const files = (await readdir(join(dir, version), { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    // the version's files + manifest, its three directories, LATEST's temp file and the root
    expect(files.length).toBeGreaterThan(trained.model.tables.length);
    expect(synced.length).toBe(files.length + 3 + 1 + 1);
  });
});
