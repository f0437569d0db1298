/**
 * The tests that load lanes from dist/ (multi-tab scenarios, the broker in a SharedWorker, the
 * demo) run against the built bundle, as users get it: a SharedWorker needs a script URL, and
 * these tests check what ships. `npm test` (and so CI) builds first. Run alone, such a test
 * without dist/ would only time out waiting for a page whose import failed: this check says
 * so at once, and warns when the bundle is older than the sources it is built from.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The bundle files the pages and workers load. */
export const BUNDLE_FILES = ['index.js', 'lanes-broker.js'] as const;

let warned = false;

/** Newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir: string): { file: string; mtime: number } {
  let best = { file: '', mtime: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { const b = newestSource(p); if (b.mtime > best.mtime) best = b; } else if (e.name.endsWith('.ts')) {
      const m = statSync(p).mtimeMs;
      if (m > best.mtime) best = { file: p, mtime: m };
    }
  }
  return best;
}

/**
 * Throws a clear error when dist/ lacks a file of `files` (run `npm run build` first); warns
 * once when dist/index.js is older than a file of src/ or sw/ (the test would run old code).
 */
export function assertBuilt(files: readonly string[] = BUNDLE_FILES): void {
  const missing = files.filter((f) => !existsSync(join(root, 'dist', f)));
  if (missing.length) {
    throw new Error(`dist/${missing.join(', dist/')} missing: this test runs against the built bundle; run \`npm run build\` first (\`npm test\` builds before it runs the tests)`);
  }
  if (warned) return;
  warned = true;
  const built = statSync(join(root, 'dist', files[0]!)).mtimeMs;
  const newest = [newestSource(join(root, 'src')), newestSource(join(root, 'sw'))].sort((a, b) => b.mtime - a.mtime)[0]!;
  if (newest.mtime > built) {
    console.warn(`[lanes tests] dist/ is older than ${newest.file.slice(root.length)}: this test runs the bundle built before that change; run \`npm run build\` to test the current sources`);
  }
}
