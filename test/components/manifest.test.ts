/**
 * custom-elements.json is what editors and docs tools read: it must describe the elements as
 * they are. The analyzer runs again into a temporary directory (it takes --outdir relative to the working directory) and must write the committed file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

it('custom-elements.json is up to date with the elements\' JSDoc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-cem-'));
  try {
    execFileSync(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze', '--outdir', relative(process.cwd(), dir)], { stdio: 'pipe' });
    const fresh = JSON.parse(readFileSync(join(dir, 'custom-elements.json'), 'utf8'));
    const committed = JSON.parse(readFileSync('custom-elements.json', 'utf8'));
    expect(committed, 'custom-elements.json is stale: run `npx cem analyze` and commit it').toEqual(fresh);
    const tags = committed.modules.flatMap((m: { declarations?: { tagName?: string }[] }) => (m.declarations ?? []).map((d) => d.tagName).filter(Boolean)).sort();
    expect(tags).toEqual(['lanes-group-view', 'lanes-inspector', 'lanes-produce-form', 'lanes-record-browser', 'lanes-sync-status', 'lanes-topic-view']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
