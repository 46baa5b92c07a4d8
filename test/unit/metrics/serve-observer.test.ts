import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ServeEmitter } from '../../../src/events/serve-events.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { observeRegistry } from '../../../src/metrics/serve-observer.ts';

describe('model registry events -> serving metrics', () => {
  it('sets the served version on each swap and counts failed loads', async () => {
    const m = createMetrics();
    const registry: ServeEmitter = new EventEmitter();
    observeRegistry(registry, m);
    registry.emit('loaded', { version: '1700000000001', step: 10, previous: null, watermarkMs: null });
    registry.emit('loadFailed', { version: '1700000000002', message: 'checksum mismatch' });
    registry.emit('loaded', { version: '1700000000004', step: 30, previous: '1700000000001', watermarkMs: null });
    const text = await m.registry.metrics();
    expect(text).toMatch(/lionctr_serve_model_version 1700000000004\n/);
    expect(text).toMatch(/lionctr_serve_model_load_failures_total 1\n/);
  });
});
