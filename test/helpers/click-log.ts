/**
 * An Avazu-like click log for tests (seeded, so the same on every run): a unique `id`, a 0/1
 * `click`, `hour` in YYMMDDHH, 21 categorical columns (hex ids, small codes, Avazu's integer codes
 * C14..C21) and two numeric ones (`price`, fractional; `views`, a count), with a planted model:
 * site_id, app_id, C14, banner_pos and views move the click rate, so a trained model's holdout AUC
 * is well above 0.5. @module
 */
import { mulberry32 } from './prng.ts';

/** The categorical columns, in file order. */
export const AVAZU_CATEGORICAL = [
  'C1',
  'banner_pos',
  'site_id',
  'site_domain',
  'site_category',
  'app_id',
  'app_domain',
  'app_category',
  'device_id',
  'device_ip',
  'device_model',
  'device_type',
  'device_conn_type',
  'C14',
  'C15',
  'C16',
  'C17',
  'C18',
  'C19',
  'C20',
  'C21',
];
/** The numeric columns. */
export const AVAZU_NUMERIC = ['price', 'views'];

/**
 * `rows` rows (header first when `header`), `delimiter`-separated, the hour advancing every
 * rows/48 rows from 2014-10-21 00:00 UTC.
 */
export function avazuLikeLines(rows: number, seed = 7, opts: { header?: boolean; delimiter?: string } = {}): string[] {
  const rnd = mulberry32(seed);
  const pick = (n: number, skew = 1.3) => Math.min(n - 1, Math.floor(n * rnd() ** skew));
  const hex = (k: number, salt: number) => ((Math.imul(k + 1, 2654435761) ^ salt) >>> 0).toString(16).padStart(8, '0');
  const effect = (k: number, salt: number) => Math.sin(k * 12.9898 + salt) * 1.2; // fixed per value
  const d = opts.delimiter ?? ',';
  const out: string[] = [];
  if (opts.header ?? true) out.push(['id', 'click', 'hour', ...AVAZU_CATEGORICAL, ...AVAZU_NUMERIC].join(d));
  for (let i = 0; i < rows; i++) {
    const hour = Math.floor((i * 48) / rows);
    const day = 21 + Math.floor(hour / 24);
    const hh = `14${'10'}${String(day)}${String(hour % 24).padStart(2, '0')}`;
    const site = pick(60);
    const app = pick(40);
    const c14 = pick(200, 1.5);
    const banner = pick(6, 2);
    const views = Math.floor(-Math.log(1 - rnd()) * 6);
    const cat = [
      ['1005', '1002', '1010', '1007'][pick(4, 3)],
      String(banner),
      hex(site, 11),
      hex(pick(50), 12),
      hex(pick(20), 13),
      hex(app, 14),
      hex(pick(30), 15),
      hex(pick(15), 16),
      rnd() < 0.7 ? 'a99f214a' : hex(pick(3000, 1), 17),
      hex(pick(2500, 1), 18),
      hex(pick(300), 19),
      String(pick(4, 2)),
      String(pick(4, 2)),
      String(375 + 113 * ((c14 + 150) % 200)), // the most frequent code is not among the smallest
      ['320', '300', '216', '728'][pick(4, 2)],
      ['50', '250', '36', '480'][pick(4, 2)],
      String(112 + 17 * ((pick(120) + 60) % 120)),
      String(pick(4, 2)),
      String(35 + 8 * ((pick(60) + 30) % 60)),
      rnd() < 0.5 ? '-1' : String(100000 + 3 * ((pick(150) + 70) % 150)),
      String(1 + ((pick(40) + 20) % 40) * 6),
    ];
    const logit =
      -1.6 + effect(site, 1) + effect(app, 2) + 0.8 * effect(c14, 3) + 0.3 * banner + 0.15 * Math.log1p(views);
    const click = rnd() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    const price = (0.05 + rnd() * 3).toFixed(4);
    const id = `${1000000000000 + i * 7919}${seed}`;
    out.push([id, click, hh, ...cat, price, views].join(d));
  }
  return out;
}
