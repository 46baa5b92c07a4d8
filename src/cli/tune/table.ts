/**
 * The table of trials `lionctr tune` prints: one row per trial with its settings and holdout
 * figures, as aligned text (best row marked `*`) or as JSON records.
 */
import type { Point } from './space.ts';
import type { Trial } from './search.ts';
import type { TrialFigures } from './trial.ts';

/** A finished trial: the search's record, its figures (absent when it failed) and why it failed. */
export interface TrialRow extends Trial {
  figures?: TrialFigures;
  error?: string;
}

/** The columns of the text table: header, width, cell of a point. */
const COLUMNS: [string, (p: Point) => string][] = [
  ['family', (p) => String(p['model.family'])],
  [
    'hidden',
    (p) => {
      const fam = p['model.family'];
      return fam === 'wide' || fam === 'fm' ? '-' : (p['model.hidden'] as number[]).join('x') || '-';
    },
  ],
  ['dim', (p) => String(p['schema.embeddingDim'])],
  ['lr dense', (p) => String(p['optim.dense.lr'])],
  ['wd dense', (p) => String(p['optim.dense.weightDecay'])],
  ['lr sparse', (p) => String(p['optim.embedding.lr'])],
  ['wd sparse', (p) => String(p['optim.embedding.weightDecay'])],
  ['schedule', (p) => String(p['optim.schedule.kind'])],
  ['batch', (p) => String(p['train.batchSize'])],
  ['passes', (p) => String(p['source.epochs'])],
];

const fx = (x: number | undefined, d: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** The trials as an aligned text table, one line per trial, the best (`bestIndex`) marked `*`. */
export function trialsTable(rows: readonly TrialRow[], bestIndex: number): string {
  const head = ['#', 'kind', ...COLUMNS.map(([h]) => h), 'AUC', 'logloss', 'seconds'];
  const body = rows.map((r) => [
    `${r.index === bestIndex ? '*' : ' '}${r.index + 1}`,
    r.kind,
    ...COLUMNS.map(([, cell]) => cell(r.point)),
    r.error ? 'failed' : fx(r.figures?.auc, 4),
    fx(r.figures?.logloss, 4),
    fx(r.figures?.seconds, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

/** The trials as JSON records: trial number (1-based), kind, settings, figures or error. */
export function trialsJson(rows: readonly TrialRow[]): object[] {
  return rows.map((r) => ({
    trial: r.index + 1,
    kind: r.kind,
    settings: r.point,
    ...(r.figures ?? {}),
    ...(r.error ? { error: r.error } : {}),
  }));
}
