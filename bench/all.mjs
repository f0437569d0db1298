#!/usr/bin/env node
// Entry of `npm run bench`: the browser suites (bench/run.mjs), then the Node benchmarks
// (bench/kafka.mjs, bench/replica.mjs). Arguments go to each part that takes them, so
// `npm run bench -- --only a,o` runs cases a and o only (and skips the Node parts, whose cases
// are not named); `--only h` runs only the replica's case h.
//
//   node bench/all.mjs [--only NAME[,NAME...]] [--rounds N] [--no-write] [other bench/run.mjs flags]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const argv = process.argv.slice(2);
const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
const only = at < 0 ? null : (argv[at].includes('=') ? argv[at].slice(7) : argv[at + 1] ?? '').split(',').filter(Boolean);
const rest = at < 0 ? argv : argv.filter((_, i) => i !== at && (argv[at].includes('=') || i !== at + 1));
// What the Node parts understand: --rounds N and --no-write.
const common = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--no-write') common.push('--no-write');
  else if (rest[i] === '--rounds') common.push('--rounds', rest[++i]);
  else if (rest[i].startsWith('--rounds=')) common.push('--rounds', rest[i].slice(9));
}

const REPLICA = ['h', 'i', 'replica', 'replica-sqlite', 'replica-jetstream'];
const KAFKA = ['kafka'];
const browser = only?.filter((n) => !REPLICA.includes(n) && !KAFKA.includes(n));
const replica = only?.filter((n) => REPLICA.includes(n));

const run = (file, args) => {
  const r = spawnSync(process.execPath, [here(file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!only || browser.length) run('./run.mjs', only ? ['--only', browser.join(','), ...rest] : rest);
if (!only || only.includes('kafka')) run('./kafka.mjs', common);
if (!only || replica.length) run('./replica.mjs', [...(replica?.length && !replica.includes('replica') ? ['--only', replica.join(',')] : []), ...common]);
