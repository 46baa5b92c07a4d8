/**
 * @module Headless Chromium for the browser tests (test/integration/status-page-browser.test.ts):
 * Debian's `chromium` package (.ci/run installs it), or the binary LIONCTR_CHROMIUM names, driven
 * by playwright-core; or why it cannot be used (without it the tests skip with that message, and
 * fail under CI=true). A page opened here records what goes wrong in it: console errors, page
 * errors, failed requests, and requests to any host but the server under test.
 */
import { spawnSync } from 'node:child_process';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The Chromium binary, or why there is none. */
export interface ChromiumFound {
  path: string | null;
  why: string;
}

/** Finds Chromium (LIONCTR_CHROMIUM, else /usr/bin/chromium) and checks it answers --version; never throws. */
export function findChromium(): ChromiumFound {
  const path = process.env.LIONCTR_CHROMIUM || '/usr/bin/chromium';
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 0) return { path, why: '' };
  const got = r.error ? r.error.message : `exit ${r.status}: ${`${r.stdout}${r.stderr}`.trim().slice(0, 200)}`;
  return { path: null, why: `no Chromium at ${path} (${got}; Debian: apt-get install chromium; .ci/run does it)` };
}

/** Launches headless Chromium at `path` (no sandbox: CI runs as root in a container). */
export function launchChromium(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: path, args: ['--no-sandbox'], headless: true });
}

/** What went wrong in a page, recorded as it happened. */
export interface PageTrouble {
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** Requests that failed (network error, aborted) or answered >= 400: `URL: reason`. */
  failed: string[];
  /** URLs requested from any origin but `origin`. */
  foreign: string[];
}

/** A new page of `browser` (1280 x 900) whose trouble is recorded; requests may go to `origin` only. */
export async function watchedPage(browser: Browser, origin: string): Promise<{ page: Page; trouble: PageTrouble }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const trouble: PageTrouble = { errors: [], failed: [], foreign: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') trouble.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => trouble.errors.push(`page: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith('data:')) trouble.foreign.push(u);
  });
  page.on('requestfailed', (r) => trouble.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) trouble.failed.push(`${r.url()}: HTTP ${r.status()}`);
  });
  return { page, trouble };
}
