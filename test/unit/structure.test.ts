/**
 * The codebase's structure rules (DESIGN.md "Data flow" and "Layout"), checked on the source itself:
 * the layers import one way, files stay small, lines stay <= 120 characters, tests do not import
 * benchmarks, and a module doc comment is not mistaken for its first declaration's.
 * Each rule is a pure function over file texts, also run on planted violations so that it can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Paths (relative to ROOT, `/`-separated) of the .ts/.mjs files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory() && e.name.startsWith('.')) continue; // dot folders, e.g. bench/peers/.venv: not source
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Relative module specifiers a file imports (static imports, re-exports and dynamic `import()`). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

/** The room of a `src/...` path: its first folder under src (`train`), or the file name for top-level files. */
const roomOf = (path: string): string => path.split('/')[1].replace(/\.(ts|mjs)$/, '');

/**
 * Layer rules: [from room, forbidden room, why]. Ingest, features, model and metrics are below
 * train, serve and cli; serve never uses train (DESIGN.md "Data flow": one direction, no back-edges).
 */
const FORBIDDEN: [string, string, string][] = [
  ...['ingest', 'features', 'model', 'metrics'].flatMap((from) =>
    ['train', 'serve', 'cli'].map((to): [string, string, string] => [from, to, 'a lower layer imports a higher one']),
  ),
  ['serve', 'train', 'serving never imports training'],
  ['ingest', 'model', 'ingest knows nothing of models'],
  ['features', 'model', 'features know nothing of models'],
];

/** The forbidden edges among `files` (path -> text): `from -> to (why)`. */
function forbiddenEdges(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [path, text] of files) {
    for (const spec of importsOf(text)) {
      const target = relative(ROOT, resolve(ROOT, dirname(path), spec))
        .split('\\')
        .join('/');
      if (!target.startsWith('src/')) continue;
      const [from, to] = [roomOf(path), roomOf(target)];
      for (const [f, t, why] of FORBIDDEN) if (from === f && to === t) bad.push(`${path} -> ${target} (${why})`);
    }
  }
  return bad;
}

/** Files over `max` lines: `path: n lines`. */
const longFiles = (files: Map<string, string>, max: number): string[] =>
  [...files]
    .map(([p, t]) => [p, t.split('\n').length - (t.endsWith('\n') ? 1 : 0)] as const)
    .filter(([, n]) => n > max)
    .map(([p, n]) => `${p}: ${n} lines`);

/** Lines over `max` characters: `path:line (n chars)`. */
const longLines = (files: Map<string, string>, max: number): string[] =>
  [...files].flatMap(([p, t]) =>
    t
      .split('\n')
      .map((l, i) => [i + 1, l.length] as const)
      .filter(([, n]) => n > max)
      .map(([i, n]) => `${p}:${i} (${n} chars)`),
  );

/**
 * Files whose opening doc comment (a module doc: it starts at line 1) is followed directly by a
 * declaration, so that TypeScript and editors attach it to that declaration, unless the comment is
 * marked `@module` (TypeDoc's module comment).
 */
function misattachedModuleDocs(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [p, t] of files) {
    if (!t.startsWith('/**')) continue;
    const end = t.indexOf('*/');
    const doc = t.slice(0, end);
    const next =
      t
        .slice(end + 2)
        .split('\n')
        .slice(1)
        .find((l) => l.trim() !== '') ?? '';
    if (/^(import|\/\/|\/\*)/.test(next.trim()) || doc.includes('@module')) continue;
    bad.push(`${p}: its module doc comment attaches to "${next.trim().slice(0, 60)}"`);
  }
  return bad;
}

const read = (paths: string[]) => new Map(paths.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')]));
const SRC = read(filesUnder('src').filter((p) => !p.startsWith('src/train/optim/wasm/kernel/')));
const ALL = read([...filesUnder('src'), ...filesUnder('test'), ...filesUnder('bench')]);

describe('structure rules catch planted violations', () => {
  it('a metrics module importing the trainer is a forbidden edge; the reverse is not', () => {
    const planted = new Map([
      ['src/metrics/x.ts', "import type { T } from '../train/trainer.ts';\nconst m = await import('../serve/a.ts');"],
      ['src/train/y.ts', "import { M } from '../metrics/catalogue.ts';\nexport { Z } from '../features/z.ts';"],
    ]);
    expect(forbiddenEdges(planted)).toEqual([
      'src/metrics/x.ts -> src/train/trainer.ts (a lower layer imports a higher one)',
      'src/metrics/x.ts -> src/serve/a.ts (a lower layer imports a higher one)',
    ]);
  });
  it('long files, long lines and a module doc on a declaration are found', () => {
    const planted = new Map([['a.ts', `/** Module. */\nexport const x = 1;\n${'y'.repeat(121)}\n`]]);
    expect(longFiles(planted, 2)).toEqual(['a.ts: 3 lines']);
    expect(longLines(planted, 120)).toEqual(['a.ts:3 (121 chars)']);
    expect(misattachedModuleDocs(planted)).toEqual(['a.ts: its module doc comment attaches to "export const x = 1;"']);
    expect(misattachedModuleDocs(new Map([['b.ts', '/** Module. */\n\nimport x from "y";\n']]))).toEqual([]);
  });
});

describe('the codebase follows them', () => {
  it('no import from ingest, features, model or metrics into train, serve or cli; serve never imports train', () => {
    expect(forbiddenEdges(SRC)).toEqual([]);
  });
  it('no file under src/ over 300 lines', () => {
    expect(longFiles(SRC, 300)).toEqual([]);
  });
  it('no line over 120 characters in src/, test/ or bench/', () => {
    expect(longLines(ALL, 120)).toEqual([]);
  });
  it('no test imports from bench/', () => {
    const bad = [...ALL].filter(([p, t]) => p.startsWith('test/') && importsOf(t).some((s) => s.includes('/bench/')));
    expect(bad.map(([p]) => p)).toEqual([]);
  });
  it('module doc comments do not land on the first declaration', () => {
    expect(misattachedModuleDocs(SRC)).toEqual([]);
  });
});
