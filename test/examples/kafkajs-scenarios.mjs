/**
 * Scenarios that run KafkaJS programs as written (ported by kafkajs-programs.mjs) against lanes
 * to completion, the same in Node (in-page broker) and in a page (SharedWorker broker). Each
 * returns a plain summary (structured-clone safe) for the test to assert on.
 */
import { observeLanes, processShim, startProgram, until } from './kafkajs-programs.mjs';

/** The program of the "Usage" section of KafkaJS's README: the first javascript block with `new Kafka(`. */
export function gettingStartedProgram(readme) {
  const blocks = [...readme.matchAll(/```javascript\n([\s\S]*?)```/g)].map((m) => m[1]);
  const program = blocks.find((b) => b.includes('new Kafka('));
  if (!program) throw new Error('no KafkaJS program in the README');
  return program;
}

/**
 * KafkaJS's examples/consumer.js with the argument of its `consumer.run(...)` replaced by the
 * eachBatch program of KafkaJS's "Consuming Messages" docs (its first javascript block with
 * eachBatch, resolveOffset and heartbeat that prints): a consumer program with eachBatch.
 */
export function eachBatchConsumer(consumerJs, consumingMd) {
  const block = [...consumingMd.matchAll(/```javascript\n([\s\S]*?)```/g)].map((m) => m[1])
    .find((b) => b.includes('eachBatch') && b.includes('resolveOffset') && b.includes('heartbeat') && b.includes('console.log'));
  const at = consumerJs.indexOf('  await consumer.run({');
  const end = consumerJs.indexOf('  })\n}\n', at);
  if (!block || at < 0 || end < 0) throw new Error('no eachBatch program in the docs, or no consumer.run in consumer.js');
  const indented = block.trimEnd().split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
  return `${consumerJs.slice(0, at)}${indented}\n${consumerJs.slice(end + '  })\n'.length)}`;
}

const printedRecord = ({ method, args: [first] }) => method === 'log' && first !== null && typeof first === 'object' && 'offset' in first;

/**
 * KafkaJS's Getting Started program: produces one message and consumes it from the beginning.
 * It has no shutdown path of its own: once it printed the message, its members are disconnected.
 */
export async function runGettingStarted({ lanes, readme, timeoutMs = 60_000 }) {
  const observed = observeLanes(lanes);
  const process = processShim({});
  const run = startProgram({ files: { 'usage.js': gettingStartedProgram(readme) }, main: 'usage.js', lanes: observed.lanes, process });
  await until(() => run.output.some(printedRecord), 'the consumed message', { timeoutMs, state: () => JSON.stringify(run.output) });
  const printed = run.output.filter(printedRecord).map(({ args: [r] }) => r);
  const errors = run.output.filter((o) => o.method === 'error').map((o) => o.args.map(String).join(' '));
  for (const m of observed.members) await m.member.disconnect();
  return {
    changed: run.changed['usage.js'],
    printed,
    errors,
    members: observed.members.map(({ kind, clientId, calls, sent }) => ({ kind, clientId, sends: calls.send ?? 0, sent })),
  };
}

/**
 * KafkaJS's example programs (examples/admin.js, consumer.js, producer.js and the
 * prettyConsoleLogger.js they require) in one process: the admin first, until its run created
 * topic-test1 and grew it to 3 partitions; then the consumer and the producer, until the producer
 * had at least two sends answered, has none in flight, and the consumer logged every message
 * sent; then SIGTERM, which each program traps to log and disconnect.
 */
export async function runExamples({ lanes, files, timeoutMs = 90_000, echo = false }) {
  const observed = observeLanes(lanes);
  const process = processShim({});
  const state = () => JSON.stringify(observed.members.map(({ kind, calls, sent, inFlight, disconnects }) => ({ kind, calls, sent, inFlight, disconnects })));
  const opts = { timeoutMs, state };
  const start = (main) => startProgram({ files, main, lanes: observed.lanes, process, echo });
  const member = (kind) => observed.members.find((m) => m.kind === kind);
  // eachMessage (consumer.js) logs each message through its logger; eachBatch (the docs) prints it.
  const processed = () => [
    ...observed.logs.filter((l) => l.clientId === 'example-consumer' && l.message === 'Message processed').map((l) => l.log),
    ...consumer.output.filter(({ method, args: [r] }) => method === 'log' && r?.message?.offset !== undefined)
      .map(({ args: [r] }) => ({ topic: r.topic, partition: r.partition, highWatermark: r.highWatermark, ...r.message })),
  ];
  const admin = start('admin.js');
  await until(() => member('admin')?.calls.createPartitions === 1 && member('admin').inFlight === 0, 'the admin program', opts);
  const consumer = start('consumer.js');
  const producer = start('producer.js');
  await until(() => {
    const p = member('producer');
    return p !== undefined && (p.calls.send ?? 0) >= 2 && p.inFlight === 0 && processed().length === p.sent;
  }, 'two sends consumed', opts);
  const settled = await process.raise('SIGTERM');
  // What the admin program made, as another client of the same (default) database sees it.
  const check = lanes.createClient({ clientId: 'harness' }).admin();
  await check.connect();
  const { topics } = await check.fetchTopicMetadata({ topics: ['topic-test1', 'topic-test'] });
  await check.disconnect();
  const p = member('producer');
  return {
    changed: { ...admin.changed, ...consumer.changed, ...producer.changed },
    topics: topics.map((t) => `${t.name}: ${t.partitions.length}`),
    sends: p.calls.send,
    sent: p.sent,
    processed: processed().map(({ topic, partition, offset, key, value, headers, msgNumber, highWatermark }) => ({ topic, partition, offset, key, value, headers, msgNumber, highWatermark })),
    producerLog: observed.logs.filter((l) => l.clientId === 'example-producer').map(({ message, log }) => ({ message, msgNumber: log.msgNumber })),
    disconnecting: observed.logs.filter((l) => l.message.endsWith('] disconnecting')).map((l) => l.message),
    members: observed.members.map(({ kind, clientId, disconnects, inFlight }) => ({ kind, clientId, disconnects, inFlight })),
    printedLines: [admin, consumer, producer].reduce((n, r) => n + r.output.length, 0),
    trapsRejected: settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason)),
    kills: process.kills.map((k) => k.signal),
    exits: process.exits,
    errors: observed.logs.filter((l) => l.label === 'ERROR').map((l) => `${l.clientId}: ${l.message}`),
  };
}
