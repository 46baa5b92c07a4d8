/**
 * The Grafana dashboard against Grafana's published schema (@grafana/schema, the JSON model
 * of dashboards; Grafana itself cannot be installed here): its JSON, written into a .ts file
 * as `const dashboard: Json<LionctrDashboard> = <the JSON>`, passes tsc (strict, excess
 * properties checked at every depth: a misspelt key, a wrong type or an unknown enum value
 * fails), and its schemaVersion is the package's (defaultDashboard.schemaVersion). A copy with
 * planted faults must fail the same check, each fault named by tsc.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultDashboard } from '@grafana/schema';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DASHBOARD = join(ROOT, 'ops/grafana/lionctr-dashboard.json');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** tsc over `dashboard` typed as Json<LionctrDashboard>: its exit status and output. */
function typeCheck(dashboard: unknown): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lionctr-dash-'));
  dirs.push(dir);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  copyFileSync(join(ROOT, 'test/helpers/grafana-dashboard.ts'), join(dir, 'grafana-dashboard.ts'));
  writeFileSync(
    join(dir, 'check.ts'),
    "import type { Json, LionctrDashboard } from './grafana-dashboard.ts';\n" +
      `export const dashboard: Json<LionctrDashboard> = ${JSON.stringify(dashboard, null, 2)};\n`,
  );
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: [],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const shipped = () => JSON.parse(readFileSync(DASHBOARD, 'utf8'));

describe('ops/grafana/lionctr-dashboard.json against @grafana/schema', () => {
  it('type-checks as a Grafana dashboard of timeseries panels and rows with Prometheus queries', () => {
    const r = typeCheck(shipped());
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  it("is written for the package's schema version", () => {
    expect(shipped().schemaVersion).toBe(defaultDashboard.schemaVersion);
  });

  it('a broken copy fails, each planted fault named', () => {
    const d = shipped();
    d.panels[1].gridPos.w = '12'; // a string where a number goes
    d.panels[1].targets[0].exp = d.panels[1].targets[0].expr; // misspelt key
    d.panels[1].options.legend.displayMode = 'lists'; // not an enum value
    d.templating.list[1].type = 'querry'; // not a variable type
    d.panels[0].collapsed = undefined; // a row without its required field
    d.annotations.list[1].enabled = true; // not an annotation field
    const r = typeCheck(d);
    expect(r.status).not.toBe(0);
    for (const what of ["'string' is not assignable to type 'number'", '"exp"', '"lists"', '"querry"', '"enabled"'])
      expect(r.output, what).toContain(what);
    expect(r.output).toMatch(/collapsed/);
  }, 120_000);
});
