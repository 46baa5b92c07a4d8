/**
 * The shipped Prometheus files pass promtool (Debian's 2.42): the scrape config and the alert
 * rules check clean, and the rule unit tests (ops/prometheus/alerts.test.yml: per alert, it
 * fires on a crafted series and stays quiet on a healthy one) pass. Skipped with a message when
 * promtool is absent; under CI=true that fails instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPromTools, PROM_DIR, promtool } from '../helpers/prometheus.ts';

const ci = process.env.CI === 'true';
const tools = findPromTools();
if (!tools.promtool && !ci) console.warn(`Prometheus rule tests skipped: ${tools.why}`);

describe.skipIf(!tools.promtool && !ci)('Prometheus config and alert rules (promtool)', () => {
  it('promtool is there (CI installs it)', () => {
    expect(tools.promtool, tools.why).not.toBeNull();
  });

  it('check config: prometheus.yml and the rule file it names are valid', () => {
    const r = promtool(tools, ['check', 'config', join(PROM_DIR, 'prometheus.yml')]);
    expect(r.status, r.output).toBe(0);
  });

  it('check rules: alerts.yml is valid', () => {
    const r = promtool(tools, ['check', 'rules', join(PROM_DIR, 'alerts.yml')]);
    expect(r.status, r.output).toBe(0);
  });

  it('test rules: every alert has a unit test, and all pass', () => {
    const alerts = [...readFileSync(join(PROM_DIR, 'alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\w+)/gm)].map(
      (m) => m[1],
    );
    const tests = readFileSync(join(PROM_DIR, 'alerts.test.yml'), 'utf8');
    for (const a of alerts) {
      // one test where it fires (exp_alerts listed) and one where it stays quiet (exp_alerts: [])
      const cases = [...tests.matchAll(new RegExp(`alertname: ${a}\\n\\s*exp_alerts:(.*)`, 'g'))].map((m) => m[1]);
      expect(
        cases.some((c) => c.trim() === '[]'),
        `${a}: a quiet case`,
      ).toBe(true);
      expect(
        cases.some((c) => c.trim() === ''),
        `${a}: a firing case`,
      ).toBe(true);
    }
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    const r = promtool(tools, ['test', 'rules', join(PROM_DIR, 'alerts.test.yml')]);
    expect(r.status, r.output).toBe(0);
  });
});
