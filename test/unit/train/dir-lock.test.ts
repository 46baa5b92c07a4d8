import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import { lockCheckpointDir } from '../../../src/train/dir-lock.ts';

describe('checkpoint directory lock', () => {
  const root = mkdtempSync(join(tmpdir(), 'lionctr-lock-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const freshDir = () => join(root, `ckpt-${n++}`);

  it('creates the directory, records pid and host, refuses a second holder, releases once', () => {
    const dir = freshDir();
    const release = lockCheckpointDir(dir);
    const [pid, host] = readFileSync(join(dir, 'LOCK'), 'utf8').trim().split(' ');
    expect([Number(pid), host]).toEqual([process.pid, hostname()]);
    let err: unknown;
    try {
      lockCheckpointDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LionctrError);
    expect((err as LionctrError).code).toBe('LIONCTR_BAD_CONFIG');
    expect((err as Error).message).toMatch(new RegExp(`in use by process ${process.pid} on ${hostname()}`));
    release();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    const again = lockCheckpointDir(dir); // free again
    release(); // a second release of the first holder does not remove the new holder's lock
    expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    again();
  });

  it('takes over the lock of a process that is gone, and an old unreadable one', () => {
    const dir = freshDir();
    lockCheckpointDir(dir)(); // creates the directory
    writeFileSync(join(dir, 'LOCK'), `2147483646 ${hostname()} 1\n`); // no such pid
    const release = lockCheckpointDir(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    release();
    writeFileSync(join(dir, 'LOCK'), 'garbage');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(dir, 'LOCK'), old, old);
    lockCheckpointDir(dir)();
  });

  it('refuses a lock held on another host (cannot tell whether it runs)', () => {
    const dir = freshDir();
    lockCheckpointDir(dir)();
    writeFileSync(join(dir, 'LOCK'), `1 some-other-host-${hostname()} 1\n`);
    expect(() => lockCheckpointDir(dir)).toThrow(/in use by process 1 on some-other-host/);
  });

  it('says checkpoint.dir when the directory cannot be created', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    let err: unknown;
    try {
      lockCheckpointDir(join(file, 'sub'));
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/cannot create the checkpoint directory/);
    expect((err as LionctrError).where).toBe('checkpoint.dir');
  });
});
