/**
 * Drives lanes' ports of KafkaJS's example programs (examples/) to completion in one context,
 * without touching their code: it watches what they print, runs the admin program first, then
 * the consumer and the producer, and once the producer has sent at least two requests, has none
 * in flight, and the consumer has printed every record sent, it resolves; the caller then
 * raises SIGTERM in the same tick, the way a shell would, which the programs trap to disconnect. Used in Node (node-driver.mjs) and in Chromium
 * (pages/examples.html).
 */

/** Loads the programs and watches their console output; resolves with what they did. */
export async function driveExamples({ load, timeoutMs = 90_000 }) {
  const s = { topics: '', requests: 0, sent: 0, msgNumber: 0, consumed: 0, keysSeen: 0, errors: [] };
  const observe = (method, args) => {
    const [first] = args;
    if (method === 'log' && first && typeof first === 'object' && 'offset' in first) {
      s.consumed++;
      if (/^key-\d+$/.test(first.key) && first.headers['correlation-id']) s.keysSeen++;
      return;
    }
    if (typeof first !== 'string') return;
    if (first === 'Topics: %s') s.topics = String(args[1]);
    if (/ Sending \d+ messages #\d+\.\.\.$/.test(first)) s.requests++;
    const sent = first.match(/ Messages sent #\d+ (\{.*\})$/);
    if (sent) {
      s.sent++;
      s.msgNumber = JSON.parse(sent[1]).msgNumber;
    }
    if (method === 'error') s.errors.push(args.map(String).join(' '));
  };
  for (const method of ['log', 'info', 'warn', 'error']) {
    const original = console[method].bind(console);
    console[method] = (...args) => { observe(method, args); original(...args); };
  }
  const deadline = Date.now() + timeoutMs;
  const until = async (cond, what) => {
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`examples: timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await load('admin');
  await until(() => s.topics !== '', 'the admin program');
  await load('consumer');
  await load('producer');
  await until(() => s.sent >= 2 && s.sent === s.requests && s.consumed === s.msgNumber, 'two sends consumed');
  return { ...s, errors: [...s.errors] };
}
