/**
 * `npm run docs:metrics`: writes the table of metrics (src/metrics/metrics-table.ts, from the
 * catalogue) into README.md between its markers; prints whether anything changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderMetricsTable, withMetricsTable } from '../src/metrics/metrics-table.ts';

const path = resolve(import.meta.dirname, '../README.md');
const before = readFileSync(path, 'utf8');
const after = withMetricsTable(before, renderMetricsTable());
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md metrics table: unchanged' : 'README.md metrics table: updated');
