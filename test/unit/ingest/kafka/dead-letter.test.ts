// Dead-letter messages of bad Kafka messages: original key and bytes, reason/position headers,
// counted by reason with a warning for the first five of each.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DeadLetters, deadLetterOf } from '../../../../src/ingest/kafka/dead-letter.ts';

describe('dead-lettering', () => {
  it('keeps the key and bytes, and puts reason, error (cut to 1000 characters) and position in headers', () => {
    const bad = { partition: 2, offset: 41, reason: 'bad_json' as const, error: 'e'.repeat(1500) };
    const m = deadLetterOf('clicks', { key: Buffer.from('k'), value: Buffer.from('v'), ...bad });
    expect(m.key!.toString()).toBe('k');
    expect(m.value!.toString()).toBe('v');
    expect(m.headers).toEqual({
      'lionctr-reason': 'bad_json',
      'lionctr-error': 'e'.repeat(1000),
      'lionctr-topic': 'clicks',
      'lionctr-partition': '2',
      'lionctr-offset': '41',
    });
  });

  it('counts by reason and warns for the first five of each only', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      {
        write: (s: string) => {
          lines.push(JSON.parse(s).msg);
        },
      },
    );
    const d = new DeadLetters('clicks', 'clicks.dlq', log);
    for (let i = 0; i < 7; i++) {
      d.reject({ key: null, value: null, partition: 0, offset: i, reason: 'empty', error: 'empty message' });
    }
    d.reject({ key: null, value: null, partition: 1, offset: 0, reason: 'oversized', error: 'too big' });
    expect(d.bad).toEqual({ empty: 7, oversized: 1 });
    expect(lines.length).toBe(6);
    expect(lines[4]).toBe(
      'bad message [empty] sent to clicks.dlq: empty message (further ones with this reason are only counted)',
    );
    expect(lines[5]).toBe('bad message [oversized] sent to clicks.dlq: too big');
    const none = new DeadLetters('clicks', '', pino({ level: 'silent' }));
    const one = deadLetterOf('clicks', { key: null, value: null, partition: 0, offset: 0, reason: 'empty', error: '' });
    await expect(none.send(null, [one])).resolves.toBeUndefined(); // no dead-letter topic: only counted
  });
});

describe('dead-lettering a batch again', () => {
  it('counts and logs a bad message once when its batch is read again (a failed send retried)', () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s).msg) });
    const d = new DeadLetters('clicks', 'clicks.dlq', log);
    const bad = (offset: number) => ({ key: null, value: null, partition: 0, offset, reason: 'bad_json' as const });
    // kafkajs retries the batch 3 times while the dead-letter topic is unreachable
    for (let attempt = 0; attempt < 3; attempt++) for (const o of [3, 7]) d.reject({ ...bad(o), error: 'x' });
    expect(d.bad).toEqual({ bad_json: 2 });
    expect(lines.length).toBe(2);
    d.reject({ ...bad(8), error: 'x' }); // a new one is counted
    expect(d.bad).toEqual({ bad_json: 3 });
    d.forget(0); // the topic was recreated: offsets start over, and are new messages
    d.reject({ ...bad(3), error: 'x' });
    expect(d.bad).toEqual({ bad_json: 4 });
  });
});
