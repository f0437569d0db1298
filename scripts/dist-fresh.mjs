#!/usr/bin/env node
// Exits 0 when dist/ is complete and newer than every file it is built from, 1 otherwise.
//
// `prepare` (run by npm when lanes is installed from git or a folder, and by
// `npx lanes-replica` inside a checkout, which installs the checkout as a folder package)
// builds only when this says the build is missing or stale: a rebuild deletes dist/'s chunks
// before writing them again, so a second build under a running page or test would make its
// on-demand imports fail, and it costs a minute and a half on a loaded machine.
//
//   node scripts/dist-fresh.mjs && echo fresh
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build writes; the oldest of them is the build's time. */
const OUTPUTS = ['dist/index.js', 'dist/lanes-broker.js', 'dist/lanes-sync-sw.js', 'dist/components.js', 'dist/types/index.d.ts', 'dist/node/replica/cli.js', 'custom-elements.json'];
/** What the build reads: source folders (every file under them) and single files. */
const SOURCE_DIRS = ['src', 'sw'];
const SOURCE_FILES = ['package.json', 'rollup.config.mjs', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.replica.json', 'custom-elements-manifest.config.mjs', 'scripts/internal-names.mjs'];

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function fresh() {
  const out = OUTPUTS.map((f) => join(ROOT, f));
  if (!out.every((f) => existsSync(f))) return false;
  const built = Math.min(...out.map((f) => statSync(f).mtimeMs));
  const src = Math.max(
    ...SOURCE_DIRS.map((d) => join(ROOT, d)).filter(existsSync).map(newest),
    ...SOURCE_FILES.map((f) => join(ROOT, f)).filter(existsSync).map((f) => statSync(f).mtimeMs),
  );
  return built >= src;
}

process.exit(fresh() ? 0 : 1);
