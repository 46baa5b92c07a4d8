/**
 * Durable writes for checkpoints and exports (DESIGN.md "Exports and serving": written to a temp
 * dir that is fsynced and renamed into place): a file written and fsynced, a directory fsynced so
 * that the entries created or renamed in it survive a power cut.
 */
import { open } from 'node:fs/promises';

/** Writes `data` to `path` and fsyncs it. */
export async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory so that renames in it are durable. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
