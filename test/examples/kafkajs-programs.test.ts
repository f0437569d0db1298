/**
 * KafkaJS programs as KafkaJS wrote them, with only their import line and `new Kafka(` changed
 * (kafkajs-programs.mjs), run to completion against lanes: in Node on the in-page broker and in
 * Chromium against the SharedWorker broker of the built bundle.
 * - The "Usage" program of KafkaJS's README, read at test time from the installed kafkajs package.
 * - KafkaJS's example programs (examples/admin.js, consumer.js, producer.js,
 *   prettyConsoleLogger.js of KafkaJS's repository), when KAFKAJS_EXAMPLES names that folder in a
 *   KafkaJS checkout; with KAFKAJS_DOCS naming that checkout's docs folder, also with the
 *   consumer's handler replaced by the eachBatch program of docs/Consuming.md (eachBatch,
 *   resolveOffset, heartbeat). Neither is part of this repository.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as lanes from '../../src/index.js';
import { startHarness, type Harness } from '../e2e/browser.js';
// @ts-expect-error plain ESM script without types
import { portProgram } from './kafkajs-programs.mjs';
// @ts-expect-error plain ESM script without types
import { eachBatchConsumer, gettingStartedProgram, runExamples, runGettingStarted } from './kafkajs-scenarios.mjs';

const readme = readFileSync(join(dirname(createRequire(import.meta.url).resolve('kafkajs/package.json')), 'README.md'), 'utf8');
const EXAMPLES = process.env.KAFKAJS_EXAMPLES;
const DOCS = process.env.KAFKAJS_DOCS;
const exampleFiles = () => Object.fromEntries(['admin.js', 'consumer.js', 'producer.js', 'prettyConsoleLogger.js'].map((f) => [f, readFileSync(join(EXAMPLES!, f), 'utf8')]));
/** The example programs, the consumer's handler being the eachBatch program of docs/Consuming.md. */
const eachBatchFiles = () => {
  const files = exampleFiles();
  return { ...files, 'consumer.js': eachBatchConsumer(files['consumer.js'], readFileSync(join(DOCS!, 'Consuming.md'), 'utf8')) as string };
};
const noExamples = !EXAMPLES || !existsSync(EXAMPLES);
const noDocs = noExamples || !DOCS || !existsSync(join(DOCS, 'Consuming.md'));

interface Changed { line: number; from: string; to: string }
interface GettingStarted { changed: Changed[]; printed: { partition: number; offset: string; value: string }[]; errors: string[]; members: { kind: string; clientId: string; sends: number; sent: number }[] }
interface Examples {
  changed: Record<string, Changed[]>; topics: string[]; sends: number; sent: number;
  processed: { topic: string; partition: number; offset: string; key: string; value: string; headers: Record<string, string>; msgNumber?: number; highWatermark?: string }[];
  producerLog: { message: string; msgNumber?: number }[]; disconnecting: string[];
  members: { kind: string; clientId: string; disconnects: number; inFlight: number }[];
  printedLines: number; trapsRejected: string[]; kills: string[]; exits: number[]; errors: string[];
}

/** The README program's port: exactly its import line and `new Kafka(` changed. */
const GETTING_STARTED_CHANGES = [
  { from: "const { Kafka } = require('kafkajs')", to: "const { createClient } = require('lanes')" },
  { from: 'const kafka = new Kafka({', to: 'const kafka = createClient({' },
];

function expectGettingStarted(r: GettingStarted) {
  expect(r.changed.map(({ from, to }) => ({ from, to }))).toEqual(GETTING_STARTED_CHANGES);
  expect(r.printed).toEqual([{ partition: 0, offset: '0', value: 'Hello KafkaJS user!' }]);
  expect(r.members).toEqual([
    { kind: 'producer', clientId: 'my-app', sends: 1, sent: 1 },
    { kind: 'consumer', clientId: 'my-app', sends: 0, sent: 0 },
  ]);
  expect(r.errors).toEqual([]);
}

function expectExamples(r: Examples, handler: 'eachMessage' | 'eachBatch') {
  // Each program: its import line and `new Kafka(`; the logger it requires: its import line.
  expect(Object.keys(r.changed).sort()).toEqual(['admin.js', 'consumer.js', 'prettyConsoleLogger.js', 'producer.js']);
  const client = 'const kafka = createClient({';
  expect(Object.fromEntries(Object.entries(r.changed).map(([file, changes]) => [file, changes.map((c) => c.to.trim())]))).toEqual({
    'admin.js': ["const { createClient, logLevel } = require('lanes')", client],
    'consumer.js': ["const { createClient, logLevel } = require('lanes')", client],
    'producer.js': ["const { createClient, CompressionTypes, logLevel } = require('lanes')", client],
    'prettyConsoleLogger.js': ["} = require('lanes')"],
  });
  expect(r.topics).toEqual(['topic-test1: 3', 'topic-test: 1']);
  expect(r.sends).toBeGreaterThanOrEqual(2);
  // Every message sent was processed once, in offset order, with its key, value and header.
  expect(r.processed).toHaveLength(r.sent);
  expect(r.processed.map((m) => Number(m.offset))).toEqual(r.processed.map((_, i) => i));
  if (handler === 'eachMessage') expect(r.processed.map((m) => m.msgNumber)).toEqual(r.processed.map((_, i) => i + 1));
  // eachBatch: each batch says how far the partition went when it was fetched.
  else for (const m of r.processed) expect(Number(m.highWatermark)).toBeGreaterThan(Number(m.offset));
  for (const m of r.processed) {
    expect([m.topic, m.partition]).toEqual(['topic-test', 0]);
    expect(m.key).toMatch(/^key-\d+$/);
    expect(m.value.startsWith(`value-${m.key.slice(4)}-`)).toBe(true);
    expect(m.headers['correlation-id']).toMatch(new RegExp(`^${m.key.slice(4)}-\\d+$`));
  }
  const sentLogs = r.producerLog.filter((l) => l.message.startsWith('Messages sent #'));
  expect(sentLogs).toHaveLength(r.sends);
  expect(Math.max(...sentLogs.map((l) => l.msgNumber ?? 0))).toBe(r.sent);
  expect(r.printedLines).toBeGreaterThan(r.sent); // the pretty logger wrote through console
  // Each program's trap logged and ran its disconnect.
  expect(r.disconnecting.sort()).toEqual(['[example/admin] disconnecting', '[example/consumer] disconnecting', '[example/producer] disconnecting']);
  expect(r.members).toEqual([
    { kind: 'admin', clientId: 'test-admin-id', disconnects: 1, inFlight: 0 },
    { kind: 'consumer', clientId: 'example-consumer', disconnects: 1, inFlight: 0 },
    { kind: 'producer', clientId: 'example-producer', disconnects: 1, inFlight: 0 },
  ]);
  expect(r.trapsRejected).toEqual([]);
  expect(r.kills).toEqual([]); // the traps disconnect and let the process end by itself
  expect(r.exits).toEqual([]); // no unhandled error made a program exit
  expect(r.errors).toEqual([]);
}

describe('KafkaJS programs as written', () => {
  it('the port changes only the import line and new Kafka(; every other line is KafkaJS\'s', () => {
    const program = gettingStartedProgram(readme) as string;
    const { source, changed } = portProgram(program) as { source: string; changed: Changed[] };
    expect(changed.map(({ from, to }) => ({ from, to }))).toEqual(GETTING_STARTED_CHANGES);
    const before = program.split('\n');
    const after = source.split('\n');
    expect(after).toHaveLength(before.length);
    expect(after.flatMap((l, i) => (l === before[i] ? [] : [i + 1]))).toEqual(changed.map((c) => c.line));
  });

  describe('in Node, on the in-page broker', () => {
    beforeEach(() => { (globalThis as { indexedDB: IDBFactory }).indexedDB = new IDBFactory(); });

    it('KafkaJS\'s README program produces and consumes its message', async () => {
      expectGettingStarted(await runGettingStarted({ lanes, readme }) as GettingStarted);
    }, 60_000);

    it.skipIf(noExamples)('KafkaJS\'s example programs (KAFKAJS_EXAMPLES) run to completion and end on SIGTERM', async () => {
      expectExamples(await runExamples({ lanes, files: exampleFiles(), echo: !!process.env.KAFKAJS_ECHO }) as Examples, 'eachMessage');
    }, 120_000);

    it.skipIf(noDocs)('with the eachBatch program of the docs as the consumer\'s handler (KAFKAJS_DOCS)', async () => {
      expectExamples(await runExamples({ lanes, files: eachBatchFiles() }) as Examples, 'eachBatch');
    }, 120_000);
  });

  describe('in Chromium, against the SharedWorker broker', () => {
    let h: Harness | undefined;
    afterEach(async () => { await h?.close(); h = undefined; });

    /** A page of a fresh browser profile: the programs use the default database, and create topics that must not exist yet. */
    async function page() {
      h = await startHarness();
      const p = await h.context.newPage();
      await p.goto(`${h.url}/test/e2e/pages/kafkajs-programs.html`);
      await p.waitForFunction(() => 'scenarios' in window);
      return p;
    }

    it('KafkaJS\'s README program produces and consumes its message', async () => {
      const p = await page();
      const r = await p.evaluate((args) => (window as unknown as { scenarios: { gettingStarted(a: unknown): Promise<GettingStarted> } }).scenarios.gettingStarted(args), { readme });
      expect(await p.evaluate(() => typeof SharedWorker)).toBe('function');
      expectGettingStarted(r);
      expect(await p.evaluate(() => (window as unknown as { unhandled: string[] }).unhandled)).toEqual([]);
      await p.close();
    }, 60_000);

    async function examplesInPage(files: Record<string, string>) {
      const p = await page();
      const r = await p.evaluate((args) => (window as unknown as { scenarios: { examples(a: unknown): Promise<Examples> } }).scenarios.examples(args), { files });
      expect(await p.evaluate(() => (window as unknown as { unhandled: string[] }).unhandled)).toEqual([]);
      await p.close();
      return r;
    }

    it.skipIf(noExamples)('KafkaJS\'s example programs (KAFKAJS_EXAMPLES) run to completion and end on SIGTERM', async () => {
      expectExamples(await examplesInPage(exampleFiles()), 'eachMessage');
    }, 120_000);

    it.skipIf(noDocs)('with the eachBatch program of the docs as the consumer\'s handler (KAFKAJS_DOCS)', async () => {
      expectExamples(await examplesInPage(eachBatchFiles()), 'eachBatch');
    }, 120_000);
  });
});
