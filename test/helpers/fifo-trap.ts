/**
 * A trap for reads outside a directory: named pipes (FIFOs) planted where no reader may go.
 * Opening a FIFO for reading blocks until a writer opens it, and opening its write end with
 * O_NONBLOCK fails (ENXIO) unless a reader has it open; so a worker thread polls the write end
 * of each pipe, and when an open succeeds a reader has opened the pipe: the trap counts it and
 * closes its end, which lets the reader go on (it reads end-of-file). The worker runs while the
 * test's own thread is blocked in a synchronous open (the loaders use openSync).
 *
 *   const trap = fifoTrap([join(outside, 'hostname')]);  ...  expect(trap.sprung()).toEqual([]);
 */
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/** Pipes planted by fifoTrap: `sprung()` lists those a reader opened; `stop()` ends the worker. */
export interface FifoTrap {
  sprung(): string[];
  stop(): Promise<void>;
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { paths, sab } = workerData;
const counts = new Int32Array(sab);
const stop = paths.length;
while (Atomics.load(counts, stop) === 0) {
  for (let i = 0; i < paths.length; i++) {
    try {
      const fd = fs.openSync(paths[i], fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      Atomics.add(counts, i, 1);
      fs.closeSync(fd);
    } catch {}
  }
  Atomics.wait(counts, stop, 0, 2);
}
`;

/** Creates a FIFO at each path (their directories must exist) and starts polling them. */
export function fifoTrap(paths: string[]): FifoTrap {
  execFileSync('mkfifo', paths);
  const sab = new SharedArrayBuffer(4 * (paths.length + 1));
  const counts = new Int32Array(sab);
  const worker = new Worker(WORKER, { eval: true, workerData: { paths, sab } });
  const exited = new Promise<void>((res) => worker.once('exit', () => res()));
  return {
    sprung: () => paths.filter((_, i) => Atomics.load(counts, i) > 0),
    stop: async () => {
      Atomics.store(counts, paths.length, 1);
      Atomics.notify(counts, paths.length);
      await exited;
    },
  };
}
