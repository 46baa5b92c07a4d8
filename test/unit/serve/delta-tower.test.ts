import { describe, expect, it } from 'vitest';
import type { ServingTower } from '../../../src/model/serving-tower.ts';
import { drainedTower } from '../../../src/serve/delta-tower.ts';

describe('drainedTower (a serving tower replaced by a delta while requests still await it)', () => {
  it('releases the wrapped tower when its last running call ends, at once when none runs', async () => {
    let released = 0,
      finish = () => {};
    const inner: ServingTower = {
      kind: 'onnx',
      logits: () =>
        new Promise<Float32Array>((r) => {
          finish = () => r(Float32Array.of(1));
        }),
      dispose: () => {
        released++;
      },
    };
    const t = drainedTower(inner);
    const running = t.logits(new Float32Array(1), 1);
    t.dispose();
    expect(released).toBe(0); // a request still awaits it
    finish();
    expect(await running).toEqual(Float32Array.of(1));
    expect(released).toBe(1);
    const idle = drainedTower(inner);
    idle.dispose();
    expect(released).toBe(2);
  });
});
