import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainEmitter } from '../../../src/events/train-events.ts';
import { attachAuditLog } from '../../../src/train/audit-log.ts';

describe('audit log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lionctr-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a start line, then per step event the step and each trained row's position key and offset", () => {
    const path = join(dir, 'audit.jsonl');
    const trainer: TrainEmitter = new EventEmitter();
    attachAuditLog(trainer, path, 40);
    trainer.emit('step', {
      step: 41,
      examples: 2,
      seconds: 0,
      loss: 0.7,
      watermarkMs: null,
      // views longer than the batch (a sliced batch): only the first `examples` rows count
      positions: { source: 'kafka:clicks', partitions: Int32Array.of(2, 0, 9), offsets: Float64Array.of(17, 3, 99) },
    });
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ run: expect.stringMatching(new RegExp(`^${process.pid}-\\d+$`)), restoredStep: 40 });
    expect(lines[1]).toEqual({
      run: lines[0].run,
      step: 41,
      rows: [
        ['kafka:clicks/2', 17],
        ['kafka:clicks/0', 3],
      ],
    });
  });
});
