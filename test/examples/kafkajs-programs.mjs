/**
 * Runs KafkaJS programs, as KafkaJS wrote them, against lanes, in one JS context (Node or a page).
 *
 * A KafkaJS program is CommonJS for Node. {@link portProgram} changes only its import line
 * (`require('kafkajs')` or, in KafkaJS's repository, `require('../index')`, with `Kafka` named
 * `createClient`) and `new Kafka(` into `createClient(`, and reports the lines it changed.
 * {@link startProgram} evaluates the result in a CommonJS wrapper with what a Node program
 * expects around it:
 * - `require`: 'lanes' is lanes itself, seen through {@link observeLanes} (every producer,
 *   consumer and admin a program makes is recorded, with its sends and disconnects); `./name`
 *   is a sibling file of the program, ported the same way; 'fs' and 'ip' are stand-ins
 *   (`readFileSync` returns '' for the TLS certificate, `address()` '127.0.0.1'), because those
 *   values only feed `ssl` and `brokers`, which lanes ignores.
 * - `process`: {@link processShim}, whose signals a harness raises and whose `kill`/`exit`
 *   are recorded instead of ending the context.
 * - `console`: a recorder per program (forwarded to the real console when `echo` is set).
 * Invariants: the program's text is evaluated as ported, nothing else is rewritten; lanes'
 * objects are the real ones (the observer only counts calls and passes them through).
 */

const IMPORT = /require\((['"])(?:kafkajs|\.\.\/index)\1\)/;

/** Ports a KafkaJS program to lanes: its import line and `new Kafka(`; returns the changed lines. */
export function portProgram(source) {
  const changed = [];
  const lines = source.split('\n').map((line, i) => {
    let to = line;
    if (IMPORT.test(line)) to = line.replace(IMPORT, "require('lanes')").replace(/\bKafka\b/, 'createClient');
    else if (/\bnew Kafka\(/.test(line)) to = line.replace(/\bnew Kafka\(/, 'createClient(');
    if (to !== line) changed.push({ line: i + 1, from: line, to });
    return to;
  });
  return { source: lines.join('\n'), changed };
}

/** Node's `process`, as far as KafkaJS's programs use it; `raise` runs a signal's listeners and awaits them. */
export function processShim(env = {}) {
  const listeners = [];
  const shim = {
    pid: 4242,
    env,
    kills: [],
    exits: [],
    on(type, fn) { listeners.push({ type, fn, once: false }); return shim; },
    once(type, fn) { listeners.push({ type, fn, once: true }); return shim; },
    listenerCount: (type) => listeners.filter((l) => l.type === type).length,
    emit(type, ...args) { void shim.raise(type, ...args); return shim.listenerCount(type) > 0; },
    /** Calls the listeners of `type` (once-listeners are removed first) and waits for them all. */
    raise(type, ...args) {
      const called = listeners.filter((l) => l.type === type);
      for (const l of called) if (l.once) listeners.splice(listeners.indexOf(l), 1);
      return Promise.allSettled(called.map((l) => l.fn(...args)));
    },
    kill(pid, signal) { shim.kills.push({ pid, signal }); return true; },
    exit(code) { shim.exits.push(code); },
  };
  return shim;
}

/**
 * lanes with what programs do through it recorded, the objects themselves unchanged in behaviour:
 * `members` lists { kind, clientId, member, calls, inFlight, disconnects } for every producer,
 * consumer and admin (`calls` counts answered calls by method; producers also `sent`, the messages
 * of answered sends), and `logs` every entry a program's own logCreator was given
 * ({ clientId, namespace, label, message, log }).
 */
export function observeLanes(lanes) {
  const members = [];
  const logs = [];
  const watch = (kind, clientId, member) => {
    const m = { kind, clientId, member, calls: {}, inFlight: 0, disconnects: 0, sent: 0 };
    members.push(m);
    for (const method of ['connect', 'disconnect', 'send', 'sendBatch', 'subscribe', 'run', 'createTopics', 'deleteTopics', 'createPartitions', 'fetchTopicMetadata']) {
      if (typeof member[method] !== 'function') continue;
      const call = member[method].bind(member);
      member[method] = async (...args) => {
        m.inFlight++;
        if (method === 'disconnect') m.disconnects++;
        try {
          const r = await call(...args);
          m.calls[method] = (m.calls[method] ?? 0) + 1;
          if (method === 'send') m.sent += args[0].messages.length;
          return r;
        } finally { m.inFlight--; }
      };
    }
    return member;
  };
  const view = {
    ...lanes,
    createClient(config) {
      const own = config.logCreator;
      const logCreator = own && ((level) => {
        const write = own(level);
        return (entry) => {
          logs.push({ clientId: config.clientId, namespace: entry.namespace, label: entry.label, message: entry.log.message, log: entry.log });
          return write(entry);
        };
      });
      const client = lanes.createClient(own ? { ...config, logCreator } : config);
      return {
        ...client,
        producer: (c) => watch('producer', config.clientId, client.producer(c)),
        consumer: (c) => watch('consumer', config.clientId, client.consumer(c)),
        admin: (c) => watch('admin', config.clientId, client.admin(c)),
      };
    },
  };
  return { lanes: view, members, logs };
}

/** Node's `fs` and `ip`, as far as KafkaJS's example programs use them (see the module doc). */
const STAND_INS = {
  fs: { readFileSync: () => '' },
  ip: { address: () => '127.0.0.1' },
};

/**
 * Ports and starts a program: `files` maps file names ('producer.js', 'prettyConsoleLogger.js')
 * to KafkaJS's text, `main` names the one to run. Returns what it printed and its port's changes.
 */
export function startProgram({ files, main, lanes, process, echo = false }) {
  const output = [];
  const record = (method) => (...args) => {
    output.push({ method, args });
    if (echo || method === 'error') console[method](`[${main}]`, ...args);
  };
  const programConsole = { log: record('log'), info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  const changed = {};
  const cache = {};
  const load = (name) => {
    if (cache[name]) return cache[name].exports;
    if (!(name in files)) throw new Error(`${main}: no file ${name} beside the program`);
    const ported = portProgram(files[name]);
    changed[name] = ported.changed;
    const module = { exports: {} };
    cache[name] = module;
    const run = new Function('require', 'module', 'exports', 'process', 'console', '__filename', '__dirname', ported.source);
    run(require, module, module.exports, process, programConsole, `/kafkajs/examples/${name}`, '/kafkajs/examples');
    return module.exports;
  };
  function require(spec) {
    if (spec === 'lanes') return lanes;
    if (spec in STAND_INS) return STAND_INS[spec];
    if (spec.startsWith('./')) return load(spec.endsWith('.js') ? spec.slice(2) : `${spec.slice(2)}.js`);
    throw new Error(`${main}: require('${spec}') has no stand-in here`);
  }
  load(main);
  return { output, changed };
}

/** Resolves once `cond()` holds, polling every 20 ms; rejects after `timeoutMs` with `what` and `state()`. */
export async function until(cond, what, { timeoutMs = 60_000, state = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${state()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
