// The partitioned-log suite: one page (bench/log.html, broker in-page), four benchmarks.
// See bench/lib/harness.mjs for the shape of a suite, a case and a row.
import { formatValue as fmt } from '../lib/harness.mjs';

/** @type {import('../lib/harness.mjs').Suite} */
export const logSuite = {
  name: 'log',
  title: 'Partitioned log, broker in the page',
  page: '/bench/log.html',
  cases: [
    {
      id: 'a',
      name: 'produce',
      fn: 'produceBatch',
      title: '(a) producer.send, 1,000 records per call',
      description:
        '100 sequential `producer.send` calls of 1,000 keyless JSON records (JSON text 100 bytes each) to a 1-partition topic: 100k records per round, ' +
        'idempotent producer (the default), metadata warmed by one earlier send. Baseline: raw IndexedDB, the same 100k value objects, one `put` per record ' +
        '(autoIncrement key), one transaction per 1,000 records, transactions awaited one after another. The two sides alternate which goes ' +
        'first, with a 2 s pause before each so the storage thread has finished compacting what the other side wrote. ' +
        'Floor (second baseline row, measured right after the row-per-record baseline): the design\'s limit, the same 1,000 records per call pre-encoded ' +
        '(outside the timed part) as one binary IndexedDB value (~100 kB), one transaction per value, 100 transactions one after another; ' +
        'lanes is reported as a fraction of it.',
      options: { calls: 100, perCall: 1000, settleMs: 2000 },
      warmup: 1,
      rows: [
        { label: '(a) send 1,000/call', metric: 'lanes', baseline: 'baseline', unit: 'records/s', goal: { kind: 'ratio', min: 35 } },
        { label: '(a) same vs pre-encoded floor', metric: 'lanes', baseline: 'floor', unit: 'records/s', goal: { kind: 'ratio', min: 0.75 } },
        { label: '(a) same, MB/s of values', metric: 'lanesMBps', baseline: 'baselineMBps', unit: 'MB/s' },
      ],
      notes: (s) => [
        `(a) one send of 1,000 records takes ${fmt(s.lanesMsPerCall.median, 'ms')} ms (median).`,
        `(a) the pre-encoded floor writes ${fmt(s.floor.median, 'records/s')} records/s, ${fmt(s.floor.median / s.baseline.median, 'x')}x the row-per-record baseline.`,
      ],
    },
    {
      id: 'b',
      name: 'concurrent',
      fn: 'concurrentSends',
      title: '(b) 1,000 concurrent one-record sends',
      description:
        '`Promise.all` of 1,000 `producer.send` calls of one keyless 100-byte JSON record each (1-partition topic, producer warmed by one send); ' +
        'records/s = 1,000 / time until all resolved. Baseline: 1,000 raw IndexedDB transactions of one `put` each, awaited one after another.',
      options: { count: 1000, settleMs: 500 },
      warmup: 1,
      rows: [
        { label: '(b) 1,000 concurrent sends', metric: 'lanes', baseline: 'baseline', unit: 'records/s', goal: { kind: 'ratio', min: 10 } },
      ],
      notes: (s) => [`(b) all 1,000 sends resolve in ${fmt(s.lanesMs.median, 'ms')} ms (median); the baseline takes ${fmt(s.baselineMs.median, 'ms')} ms.`],
    },
    {
      id: 'c',
      name: 'consume',
      fn: 'consume',
      title: '(c) reading 100k records with a free consumer',
      description:
        '100k records pre-produced in 1,000-record sends; per round a new free consumer (`consumer()`, default fetch sizes) is assigned ' +
        "`{ partition: 0, offset: '0' }` and `run` counts records until 100k were handed over (timed from `run()`), once with eachMessage, " +
        'once with eachBatch. Baseline: one raw IndexedDB `getAll` of a store holding the same 100k values one row per record.',
      options: { count: 100_000, perSend: 1000, settleMs: 1000 },
      warmup: 1,
      rows: [
        { label: '(c) consume, eachMessage', metric: 'eachMessage', baseline: 'baseline', unit: 'records/s', goal: { kind: 'min', value: 500_000 } },
        { label: '(c) consume, eachBatch', metric: 'eachBatch', baseline: 'baseline', unit: 'records/s', goal: { kind: 'min', value: 500_000 } },
      ],
      notes: (s) => {
        const pass = Math.max(s.eachMessage.median, s.eachBatch.median) >= 500_000;
        return [`(c) the goal asks for either variant: ${pass ? 'PASS' : 'MISS'}.`];
      },
    },
    {
      id: 't',
      name: 'txn-pipeline',
      fn: 'txnPipeline',
      title: '(t) exactly-once pipeline vs the same pipeline at least once',
      description:
        'A group consumer reads 2,000 orders (pre-produced, outside the timed part; 1-partition topics, broker in-page) and writes one invoice per ' +
        'order, handing eachBatch at most N orders (maxRecordsPerPartition N = 1 and 100). Exactly once: per batch one transaction ' +
        '(`tx.send` of the batch\'s invoices, `tx.sendOffsets`, `tx.commit`). Baseline, at least once: per batch one `producer.send` of the ' +
        'invoices, then `consumer.commitOffsets` of the batch (awaited). Orders/s timed from `run()` to the last commit; the two sides ' +
        'alternate which goes first in each round.',
      options: { count: 2000, perBatch: [1, 100], settleMs: 500 },
      warmup: 1,
      rows: [
        { label: '(t) exactly once, 1 order per transaction', metric: 'exactlyOnce1', baseline: 'atLeastOnce1', unit: 'records/s', goal: { kind: 'ratio', min: 0.5 } },
        { label: '(t) exactly once, 100 orders per transaction', metric: 'exactlyOnce100', baseline: 'atLeastOnce100', unit: 'records/s', goal: { kind: 'ratio', min: 0.5 } },
      ],
    },
    {
      id: 'o',
      name: 'open',
      fn: 'open',
      title: '(o) broker open: connect + first send',
      description:
        'Three logs built once per run (in setup, outside the rounds): one empty 1-partition topic; one 1-partition topic holding 1M records in ' +
        '1,000 segments (1,000 sends of 1,000 records, segment.bytes 1 so each batch rolls a segment); 500 topics of one partition and one record each. ' +
        'Per round each log is opened 3 times, the three logs in rotating order: a new client (`createClient`, broker in-page, so the broker opens the log), `producer.connect()` and one ' +
        'one-record `send`, timed from createClient until the send resolved; the producer then disconnects, which closes the broker. ' +
        'A round reports the median of its 3 opens per log. Baseline: the empty log in the same round.',
      options: { records: 1_000_000, perSend: 1000, topics: 500, repeats: 3 },
      warmup: 1,
      rows: [
        { label: '(o) open, empty log', metric: 'empty', unit: 'ms' },
        { label: '(o) open, 1M records / 1,000 segments', metric: 'big', baseline: 'empty', unit: 'ms', goal: { kind: 'ratioMax', max: 1.5 } },
        { label: '(o) open, 500 topics', metric: 'many', baseline: 'empty', unit: 'ms', goal: { kind: 'ratioMax', max: 1.5 } },
      ],
    },
    {
      id: 'd',
      name: 'memory',
      fn: 'memory',
      title: '(d) heap of the broker context over 1M records',
      description:
        'A fresh page per round: 1,000 sequential sends of 1,000 records (1M records, ~100 MB of values) and then all of them read back by a ' +
        'free consumer with eachBatch (counting only). `performance.memory.usedJSHeapSize` after a forced full GC (`window.gc`) after the ' +
        'append, at the end of the read (from inside the last eachBatch call, the consumer still running; `window.gc()` twice, since one call ' +
        'that lands during V8\'s concurrent marking keeps what that cycle had already marked) and after `consumer.stop()` + ' +
        '`disconnect()`; the peak is the largest value sampled every 50 ms (no GC forced, so it includes garbage not yet collected). ' +
        'Baseline: the same page with the client connected and the topic created, log empty (after GC).',
      options: { sends: 1000, perSend: 1000, sampleMs: 50 },
      warmup: 0,
      maxRounds: 3,
      freshPagePerRound: true,
      rows: [
        { label: '(d) heap after append (GC)', metric: 'afterAppend', baseline: 'emptyLog', unit: 'MB', goal: { kind: 'max', value: 64 } },
        { label: '(d) heap at end of read (GC)', metric: 'endOfRead', baseline: 'emptyLog', unit: 'MB', goal: { kind: 'max', value: 64 } },
        { label: '(d) heap after consumer.stop (GC)', metric: 'afterRead', baseline: 'emptyLog', unit: 'MB', goal: { kind: 'max', value: 64 } },
        { label: '(d) heap peak (sampled)', metric: 'peak', baseline: 'emptyLog', unit: 'MB', goal: { kind: 'max', value: 64 } },
      ],
      notes: (s) => [
        `(d) page heap before any client: ${fmt(s.pageHeap.median, 'MB')} MB; peak while appending ${fmt(s.peakAppend.median, 'MB')} MB, while reading ${fmt(s.peakRead.median, 'MB')} MB.`,
        `(d) on the way: append ${fmt(s.appendRate.median, 'records/s')} records/s, eachBatch read ${fmt(s.readRate.median, 'records/s')} records/s over 1M records.`,
      ],
    },
  ],
};

