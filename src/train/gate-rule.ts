/**
 * The publish gate's rule (src/train/publish-gate.ts): from the held-out figures of a
 * candidate export and of the version being served (same examples), whether the candidate is
 * published, refused or cannot be judged, and why, in words for the log.
 */
import type { GateFigures } from '../events/train-events.ts';
import type { GateSection } from './config.ts';

/** What the gate decided and why (judge()). */
export interface Verdict {
  decision: 'published' | 'refused' | 'unjudged';
  /** `auc_drop`, `calibration` when refused. */
  reasons: string[];
  /** The figures behind it, in words, for the log. */
  why: string;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'undefined');

/**
 * The gate's rule over the held-out figures of the candidate and the served version (same
 * examples): with fewer than `minClicks` clicks or non-clicks it cannot judge: unjudged
 * (published), unless `afterRefusal` (a candidate was refused since the last publish, and
 * nothing shows this one is better: refused, reason `unjudged_after_refusal`); refused when
 * the candidate's AUC is more than `maxAucDrop` below the served one's (or undefined while
 * the served one's is not; reason `auc_drop`), or its calibration leaves [lo, hi]: outside it
 * while the served version's is inside, or outside and further from 1 (|ln c|) than the
 * served version's, so that a candidate improving on a miscalibrated served version passes
 * (`calibration`); else published.
 * @param clicks clicks among the `examples` held-out examples.
 */
export function judge(
  cand: GateFigures,
  served: GateFigures,
  examples: number,
  clicks: number,
  cfg: Pick<GateSection, 'maxAucDrop' | 'calibration' | 'minClicks'>,
  afterRefusal = false,
): Verdict {
  const on = `on ${examples} held-out examples (${clicks} clicks)`;
  if (clicks < cfg.minClicks || examples - clicks < cfg.minClicks) {
    const few = `${examples} held-out examples, ${clicks} clicks (export.gate.minClicks ${cfg.minClicks})`;
    const why = `too few to judge: ${few}`;
    if (!afterRefusal) return { decision: 'unjudged', reasons: [], why };
    const refused = `${why}, and the previous candidate was refused`;
    return { decision: 'refused', reasons: ['unjudged_after_refusal'], why: refused };
  }
  const [lo, hi] = cfg.calibration;
  const drop = served.auc - cand.auc;
  const reasons: string[] = [];
  const parts = [`AUC ${f4(cand.auc)} vs served ${f4(served.auc)}`];
  if (Number.isFinite(served.auc) && !(drop <= cfg.maxAucDrop)) {
    reasons.push('auc_drop');
    parts[0] += ` (drop ${f4(drop)} > export.gate.maxAucDrop ${cfg.maxAucDrop})`;
  }
  const cal = `calibration ${f4(cand.calibration)} (served ${f4(served.calibration)})`;
  const inRange = (x: number) => x >= lo && x <= hi;
  // off by a factor: |ln calibration|; a served version outside the range too may be improved on
  const off = (x: number) => Math.abs(Math.log(x));
  if (
    !inRange(cand.calibration) &&
    (inRange(served.calibration) || !(off(cand.calibration) <= off(served.calibration)))
  ) {
    reasons.push('calibration');
    const worse = inRange(served.calibration) ? '' : ', further from 1 than the served version';
    parts.push(`${cal} outside export.gate.calibration [${lo}, ${hi}]${worse}`);
  } else parts.push(cal);
  return { decision: reasons.length ? 'refused' : 'published', reasons, why: `${parts.join(', ')} ${on}` };
}
