/**
 * Fuzzed Kafka frames [test only]: random API keys, versions, bodies, truncations, flipped
 * bytes and lying sizes, from a seeded generator so a failure can be replayed by its seed.
 */
import * as M from '../../../src/replica/kafka/messages.js';
import type { MessageSpec } from '../../../src/replica/kafka/schema.js';
import { encodeMessage } from '../../../src/replica/kafka/schema.js';
import { Writer } from '../../../src/replica/kafka/wire.js';
import { RawKafkaConnection, requestFrame, type Outcome } from './raw-client.js';
import { prng } from '../../helpers/prng.js';

const SUPPORTED: MessageSpec[] = Object.entries(M).filter(([n]) => n.endsWith('Request')).map(([, s]) => s);

/** Well-formed requests the fuzzer truncates and corrupts. */
function validBodies(): { apiKey: number; version: number; body: Uint8Array }[] {
  const enc = (spec: MessageSpec, version: number, msg: Record<string, unknown>) => {
    const w = new Writer();
    if (spec.flexible && version >= spec.flexible[0]) w.uvarint(0); // request header v2 tagged fields
    encodeMessage(spec, version, msg, w);
    return { apiKey: spec.apiKey, version, body: w.finish().slice() };
  };
  return [
    enc(M.ApiVersionsRequest, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }),
    enc(M.MetadataRequest, 4, { topics: [{ name: 'orders' }], allowAutoTopicCreation: false }),
    enc(M.ListOffsetsRequest, 2, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -2 }] }] }),
    enc(M.FetchRequest, 11, { maxWaitMs: 0, minBytes: 0, topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }),
    enc(M.OffsetFetchRequest, 7, { groupId: 'fuzz', topics: null }),
    enc(M.DescribeGroupsRequest, 4, { groups: ['fuzz'], includeAuthorizedOperations: false }),
    enc(M.FindCoordinatorRequest, 2, { key: 'fuzz', keyType: 0 }),
  ];
}

/** One fuzzed frame: the bytes to write and what it is, for the report. */
export interface FuzzFrame {
  bytes: Buffer;
  apiKey: number;
  correlationId: number;
  kind: string;
}

/** Generates `n` frames from `seed`. */
export function* fuzzFrames(seed: number, n: number): Generator<FuzzFrame> {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const bytes = (len: number) => Buffer.from(Array.from({ length: len }, () => int(0, 255)));
  const valid = validBodies();
  for (let i = 0; i < n; i++) {
    const correlationId = i + 1;
    const roll = rnd();
    if (roll < 0.35) {
      const apiKey = int(-3, 80);
      yield { bytes: requestFrame(apiKey, int(-2, 20), correlationId, bytes(int(0, 200))), apiKey, correlationId, kind: 'random' };
    } else if (roll < 0.6) {
      const spec = SUPPORTED[int(0, SUPPORTED.length - 1)]!;
      yield { bytes: requestFrame(spec.apiKey, int(spec.versions[0], spec.versions[1]), correlationId, bytes(int(0, 120))), apiKey: spec.apiKey, correlationId, kind: 'random-body' };
    } else if (roll < 0.8) {
      const v = valid[int(0, valid.length - 1)]!;
      const cut = int(0, v.body.length - 1);
      yield { bytes: requestFrame(v.apiKey, v.version, correlationId, v.body.subarray(0, cut)), apiKey: v.apiKey, correlationId, kind: 'truncated' };
    } else if (roll < 0.9) {
      const v = valid[int(0, valid.length - 1)]!;
      const body = Buffer.from(v.body);
      for (let k = int(1, 4); k > 0; k--) body[int(0, body.length - 1)] = int(0, 255);
      yield { bytes: requestFrame(v.apiKey, v.version, correlationId, body), apiKey: v.apiKey, correlationId, kind: 'flipped' };
    } else if (roll < 0.95) {
      const head = Buffer.alloc(4 + int(0, 7));
      head.writeInt32BE(head.length - 4, 0);
      yield { bytes: Buffer.concat([head.subarray(0, 4), bytes(head.length - 4)]), apiKey: -1, correlationId, kind: 'short-header' };
    } else {
      const size = rnd() < 0.5 ? -int(1, 2 ** 31 - 1) : int(64 * 1024 * 1024, 2 ** 31 - 1);
      const head = Buffer.alloc(4);
      head.writeInt32BE(size, 0);
      yield { bytes: Buffer.concat([head, bytes(int(0, 64))]), apiKey: -1, correlationId, kind: 'bad-size' };
    }
  }
}

/** Tally of what became of the frames. */
export interface FuzzReport {
  answered: number;
  closed: number;
  /** Frames the server answered with nothing, legitimately (Produce with acks=0), by API key. */
  silent: number[];
  /** Anything else: a wrong correlation id, a hang. Must stay empty. */
  violations: string[];
}

const SENTINEL = 0x7ffffff0;

/**
 * Sends every frame on a connection (a new one after each close), each followed by an
 * ApiVersions v0 sentinel: the answer to the frame must come first, then the sentinel's, or
 * the connection closes.
 */
export async function runFuzz(port: number, frames: Iterable<FuzzFrame>, frameTimeoutMs = 40_000): Promise<FuzzReport> {
  const report: FuzzReport = { answered: 0, closed: 0, silent: [], violations: [] };
  const sentinel = requestFrame(18, 0, SENTINEL, new Uint8Array(0));
  let conn: RawKafkaConnection | null = null;
  const within = async (p: Promise<Outcome>): Promise<Outcome | 'timeout'> => {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), frameTimeoutMs); });
    try {
      return await Promise.race([p, t]);
    } finally {
      clearTimeout(timer);
    }
  };
  for (const f of frames) {
    if (!conn || conn.closed) conn = await RawKafkaConnection.open(port);
    conn.write(f.bytes);
    conn.write(sentinel);
    const first = await within(conn.next());
    if (first === 'timeout') { report.violations.push(`${f.kind} frame ${f.correlationId} (api ${f.apiKey}): no answer`); conn.close(); conn = null; continue; }
    if (first.kind === 'closed') { report.closed++; continue; }
    if (first.correlationId === SENTINEL) { report.silent.push(f.apiKey); continue; }
    if (first.correlationId !== f.correlationId) { report.violations.push(`${f.kind} frame ${f.correlationId}: answered with correlation id ${first.correlationId}`); }
    report.answered++;
    const second = await within(conn.next());
    if (second === 'timeout') { report.violations.push(`sentinel after frame ${f.correlationId}: no answer`); conn.close(); conn = null; continue; }
    if (second.kind === 'response' && second.correlationId !== SENTINEL) report.violations.push(`frame ${f.correlationId}: second answer ${second.correlationId}`);
  }
  conn?.close();
  return report;
}
