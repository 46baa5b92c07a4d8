/** The admission gate (src/model/admission.ts): counts, the trial, determinism, config checks. */
import { describe, expect, it } from 'vitest';
import { AdmissionGate } from '../../../src/model/admission.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const cfg = (minCount: number, probability = 1, sketchBytes = 1 << 16) => ({ minCount, probability, sketchBytes });

describe('admission gate', () => {
  it('minCount 3: an id is refused on its first two sightings and admitted on the third', () => {
    const g = new AdmissionGate('C1', cfg(3), 1);
    expect(g.active).toBe(true);
    expect(g.bytes).toBe(0); // allocated on the first sighting: a serving model holds none
    for (let id = 0; id < 200; id++) {
      expect(g.admit(id, id * 7, 0), `id ${id} sighting 1`).toBe(false);
      expect(g.admit(id, id * 7, 1), `id ${id} sighting 2`).toBe(false);
      expect(g.admit(id, id * 7, 2), `id ${id} sighting 3`).toBe(true);
    }
    expect(g.rejected).toBe(400);
    expect(g.bytes).toBe(1 << 16);
  });

  it('count-min never under-counts: in a crowded sketch no id waits past minCount sightings', () => {
    // 64-byte sketch (4 rows of 16 counters) and 500 ids: collisions everywhere; the count of an
    // id is at least its true count, so it is admitted at its minCount-th sighting or earlier
    const g = new AdmissionGate('C1', cfg(5, 1, 64), 1);
    const rnd = mulberry32(9);
    const seen = new Map<number, number>();
    const admittedAt = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const id = Math.floor(rnd() * 500);
      if (admittedAt.has(id)) continue;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      if (g.admit(0, id, i)) admittedAt.set(id, n);
      else expect(n, `id ${id}`).toBeLessThan(5);
    }
    expect(admittedAt.size).toBeGreaterThan(400);
    for (const n of admittedAt.values()) expect(n).toBeLessThanOrEqual(5);
  });

  it('halveEvery: counts older than the window fade, so an id seen once per window never gets a row', () => {
    // width 1024 counters a row; 60 other ids between two sightings of id 7 pass one halving (every 50)
    const run = (halveEvery: number) => {
      const g = new AdmissionGate('C1', { ...cfg(2, 1, 4096), halveEvery }, 1);
      const got: boolean[] = [];
      for (let round = 0; round < 5; round++) {
        got.push(g.admit(0, 7, round));
        for (let o = 0; o < 60; o++) g.admit(1, round * 1000 + o, round);
      }
      return { got, g };
    };
    const fading = run(50);
    expect(fading.got).toEqual([false, false, false, false, false]);
    expect(fading.g.sightings).toBe((5 * 61) % 50);
    // with a window of 10 x 1024 sightings the second sighting admits
    expect(run(0).got.slice(0, 2)).toEqual([false, true]);
    expect(run(0).g.halveEvery).toBe(10240);
  });

  it('probability 0.25: about a quarter of first sightings admit; same seed same decisions, other seed others', () => {
    const decide = (seed: number) => {
      const g = new AdmissionGate('C7', cfg(1, 0.25), seed);
      return Array.from({ length: 20000 }, (_, id) => g.admit(id >>> 3, id, 17));
    };
    const a = decide(1),
      b = decide(1),
      c = decide(2);
    const rate = a.filter(Boolean).length / a.length;
    // binomial sd = sqrt(0.25 * 0.75 / 20000) = 0.003; 5 sd
    expect(Math.abs(rate - 0.25)).toBeLessThan(0.015);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // the trial of a later step is a new one: an id refused now may pass later
    const g = new AdmissionGate('C7', cfg(1, 0.25), 1);
    let passedLater = 0;
    for (let id = 0; id < 1000; id++) {
      if (a[id]) continue;
      for (let step = 18; step < 40; step++)
        if (g.admit(id >>> 3, id, step)) {
          passedLater++;
          break;
        }
    }
    expect(passedLater).toBeGreaterThan(600);
  });

  it('slots hash apart: the same id and seed decide independently in two slots', () => {
    const run = (slot: string) => {
      const g = new AdmissionGate(slot, cfg(1, 0.5), 1);
      return Array.from({ length: 2000 }, (_, id) => g.admit(0, id, 0));
    };
    expect(run('C1')).not.toEqual(run('C2'));
  });

  it('off (minCount 1, probability 1): inactive, no sketch, admits everything', () => {
    const g = new AdmissionGate('C1', cfg(1), 1);
    expect(g.active).toBe(false);
    expect(g.counts).toBeNull();
    expect(g.admit(1, 2, 3)).toBe(true);
  });

  it('refuses bad settings, naming the key', () => {
    expect(() => new AdmissionGate('C1', cfg(0), 1)).toThrow(/model\.admission\.minCount/);
    expect(() => new AdmissionGate('C1', cfg(256), 1)).toThrow(/minCount/);
    expect(() => new AdmissionGate('C1', cfg(2, 0), 1)).toThrow(/model\.admission\.probability/);
    expect(() => new AdmissionGate('C1', cfg(2, 1.5), 1)).toThrow(/probability/);
    expect(() => new AdmissionGate('C1', cfg(2, 1, 8), 1)).toThrow(/sketchBytes/);
    expect(() => new AdmissionGate('C1', { ...cfg(2), halveEvery: -1 }, 1)).toThrow(/halveEvery/);
  });

  it('restore() takes a sketch of the same size and refuses another', () => {
    const a = new AdmissionGate('C1', cfg(2, 1, 256), 1);
    a.admit(5, 6, 0);
    const b = new AdmissionGate('C1', cfg(2, 1, 256), 1);
    b.restore(a.counts!, a.sightings);
    expect(b.sightings).toBe(1);
    expect(b.admit(5, 6, 1)).toBe(true);
    expect(() => new AdmissionGate('C1', cfg(2, 1, 512), 1).restore(a.counts!, 0)).toThrow(/admission sketch/);
  });
});
