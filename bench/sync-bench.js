// Page side of the sync suite: builds a backlog, times its upload to the replica, and times the
// same number of bytes POSTed raw with fetch.
import { createClient } from '../dist/index.js';

/** Writes `count` ~100-byte JSON records (1,000 per send, 3 partitions) into a fresh database without sync. */
export async function backlog(database, count) {
  const client = createClient({ database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'clicks', numPartitions: 3 }] });
  const producer = client.producer();
  await producer.connect();
  for (let i = 0; i < count; i += 1000) {
    const messages = [];
    for (let j = i; j < i + 1000; j++) messages.push({ key: `user-${j % 997}`, value: { id: j, kind: 'click', path: '/products/42', at: 1700000000000 + j, ok: true }, partition: j % 3 });
    await producer.send({ topic: 'clicks', messages });
  }
  let bytes = 0;
  for (let p = 0; p < 3; p++) for (const s of await admin.describeSegments({ topic: 'clicks', partition: p })) bytes += s.sizeBytes;
  await producer.disconnect();
  await admin.disconnect();
  return { bytes };
}

/** Turns sync on for the database and times until the replica acknowledged everything. */
export async function upload(database, url, token, count) {
  const client = createClient({ database, broker: 'in-page', logCleanerIntervalMs: 0, sync: { url, token, lingerMs: 0, serviceWorker: false, persist: false } });
  const admin = client.admin();
  let requests = 0;
  const done = new Promise((resolve) => client.sync.on('status', (s) => { if (s.state === 'uploading') requests++; if (s.pendingRecords === 0 && s.state === 'idle' && s.lastSuccessAt) resolve(); }));
  const t0 = performance.now();
  await admin.connect();
  await done;
  const ms = performance.now() - t0;
  const offsets = await admin.fetchTopicOffsets('clicks');
  const replicated = offsets.reduce((n, o) => n + Number(o.replicated), 0);
  await admin.disconnect();
  if (replicated !== count) throw new Error(`replicated ${replicated} of ${count}`);
  return { ms };
}

/** POSTs `bytes` (incompressible content) in `chunk`-byte bodies, one after another, like the agent's requests. */
export async function rawPost(sinkUrl, bytes, chunk) {
  const body = new Uint8Array(chunk);
  crypto.getRandomValues(body.subarray(0, Math.min(chunk, 65536)));
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk) {
    const res = await fetch(sinkUrl, { method: 'POST', body: body.subarray(0, Math.min(chunk, bytes - sent)), headers: { 'content-type': 'application/octet-stream' } });
    await res.arrayBuffer();
  }
  return { ms: performance.now() - t0 };
}
