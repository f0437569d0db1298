/**
 * Scheduling "soon" without a timer [broker, sw, page]. A hidden tab hosting the broker (the
 * leader tab without SharedWorker, or the in-page host) has its timers throttled: Firefox runs a
 * hidden tab's `setTimeout(0)` about once a second, Chromium does so for chained timers (nesting
 * level 5 and more) and, after five hidden minutes, once a minute. A message to a MessageChannel
 * port is not throttled, so work queued with {@link nextTask} keeps its pace in the background.
 *
 * Invariants:
 * - The callback runs in a later task, after every microtask queued before the call; callbacks
 *   queued together run in the order they were queued, one task each.
 * - Never a timer where `setImmediate` (Node) or `MessageChannel` (browsers, workers) exists.
 * - One MessageChannel per context, made on first use and kept: a new channel per call entangles
 *   two ports each time (~50 µs in a loaded SharedWorker, measured on the produce -> fetch
 *   wake-up path, bench/ANALYSIS.md), a message on a kept port costs a few µs.
 */

/**
 * Resolves in a later task, after every microtask queued now. setImmediate where there is one
 * (Node: setTimeout(0) waits 1 ms there); elsewhere a message to a MessageChannel port.
 */
export function nextTask(): Promise<void> {
  return new Promise((r) => queueTask(r));
}

/**
 * Runs `f` in a later task (see {@link nextTask}); returns a canceller. The fallback where
 * neither setImmediate nor MessageChannel exists is setTimeout(0).
 */
export function queueTask(f: () => void): () => void {
  let live = true;
  const run = () => { if (live) { live = false; f(); } };
  const immediate = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
  if (immediate) immediate(run);
  else if (typeof MessageChannel === 'function') {
    const port = channel ??= openChannel();
    queued.push(run);
    port.postMessage(null);
  } else setTimeout(run, 0);
  return () => { live = false; };
}

/** Callbacks waiting for their message on the kept channel, oldest first (one message each). */
const queued: (() => void)[] = [];
let channel: MessagePort | undefined;

function openChannel(): MessagePort {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => queued.shift()?.();
  // Node's ports keep the process alive while listened to; browsers' have no unref.
  (port1 as { unref?: () => void }).unref?.();
  return port2;
}
