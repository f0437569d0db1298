#!/usr/bin/env node
// Set-up for `npm test`, `npm start` and `npm run bench` on a fresh machine: installs npm
// packages when node_modules is missing or stale, Debian's chromium and firefox-esr (browser
// tests run in both engines) and kcat (the replica's Kafka listener tests and benchmark) when missing (as root), or says
// exactly what to install. Uses only Node built-ins.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const needBrowser = !args.has('--no-browser') && !quiet;
const log = (m) => { if (!quiet) console.log(`[setup] ${m}`); };

function run(cmd) {
  log(cmd);
  const r = spawnSync(cmd, { cwd: root, stdio: 'inherit', shell: true });
  if (r.status !== 0) {
    console.error(`[setup] failed: ${cmd}`);
    process.exit(r.status ?? 1);
  }
}

/** Installs a Debian package when a command is missing (as root with apt), else says how; exits on failure. */
function ensureCommand(command, aptPackage, why) {
  if (spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    run('apt-get update -qq || true');
    run(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${aptPackage}`);
  } else {
    console.error(`[setup] ${command} is missing (${why}). Install it with: sudo apt-get install -y ${aptPackage}`);
    process.exit(1);
  }
}

// better-sqlite3 (the replica's embedded store) compiles its native module when no prebuilt
// binary can be downloaded: it needs python3, make and a C++ compiler before npm install.
ensureCommand('python3', 'python3', 'better-sqlite3 builds with node-gyp');
ensureCommand('make', 'make', 'better-sqlite3 builds with node-gyp');
ensureCommand('g++', 'g++', 'better-sqlite3 builds with node-gyp');

// npm packages: reinstall when package.json or the lockfile changed since the last install.
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.lanes-setup-stamp');
const digest = createHash('sha256')
  .update(readFileSync(join(root, 'package.json')))
  .update(existsSync(lock) ? readFileSync(lock) : '')
  .digest('hex');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest) {
  // npm install, not npm ci: npm 11 leaves other platforms' optional packages out of the
  // lockfile and npm ci then refuses it as out of sync.
  run('npm install --no-audit --no-fund');
  writeFileSync(stamp, digest);
}

// Chromium for browser tests and benchmarks.
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (needBrowser && !existsSync(CHROMIUM)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    run('apt-get update -qq || true');
    run('DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium');
  } else {
    console.error('[setup] Chromium is missing. Install it with: sudo apt-get install -y chromium  (or set CHROMIUM_PATH to a Chromium binary)');
    process.exit(1);
  }
}
if (needBrowser) {
  try { log(execSync(`${CHROMIUM} --version`, { encoding: 'utf8' }).trim()); } catch { /* version is informative only */ }
}

// Firefox ESR: the browser suites and multi-tab scenarios also run in Gecko, driven by
// puppeteer-core over WebDriver BiDi (never a downloaded browser).
export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
if (needBrowser && !existsSync(FIREFOX)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    run('apt-get update -qq || true');
    run('DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr');
  } else {
    console.error('[setup] Firefox ESR is missing. Install it with: sudo apt-get install -y firefox-esr  (or set FIREFOX_PATH to a Firefox binary)');
    process.exit(1);
  }
}
if (needBrowser) {
  try { log(execSync(`${FIREFOX} --version`, { encoding: 'utf8' }).trim()); } catch { /* version is informative only */ }
}

// kcat (librdkafka's command-line client) for the replica's Kafka listener tests and benchmark.
export const KCAT = process.env.KCAT_PATH || '/usr/bin/kcat';
if (needBrowser && !existsSync(KCAT)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    run('apt-get update -qq || true');
    run('DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat');
  } else {
    console.error('[setup] kcat is missing. Install it with: sudo apt-get install -y kcat  (or set KCAT_PATH to a kcat binary)');
    process.exit(1);
  }
}

// nats-server for the replica's JetStream store tests and benchmark (a 3-node cluster on loopback).
if (needBrowser) ensureCommand(process.env.NATS_SERVER || 'nats-server', 'nats-server', 'JetStream store tests start a local cluster');
