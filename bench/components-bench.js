// The components' benchmark page: the record browser over a 1M-record partition, scrolled one
// step per animation frame, against a plain scrolled element of the same size whose content
// never changes (the browser's own frame cost for scrolling). Metrics: frame intervals.
import { createClient } from '../dist/index.js';
import '../dist/components.js';

let client, producer, browser, plain;

/** rAF-driven scroll of `el` through `steps` positions; returns the frame intervals (ms). */
function scrollFrames(el, steps) {
  return new Promise((resolve) => {
    const intervals = [];
    let i = 0, last = 0;
    const frame = (t) => {
      if (last) intervals.push(t - last);
      last = t;
      if (i >= steps.length) { resolve(intervals); return; }
      el.scrollTop = steps[i++];
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

/** Scroll positions: slow reading, then fast flicks over the whole range, then back up. */
function pattern(maxScroll, frames) {
  const steps = [];
  const third = Math.floor(frames / 3);
  for (let i = 0; i < third; i++) steps.push(i * 24);
  for (let i = 0; i < third; i++) steps.push(Math.floor((i / third) * maxScroll));
  for (let i = 0; i < frames - 2 * third; i++) steps.push(Math.floor(maxScroll * (1 - i / (frames - 2 * third))) );
  return steps;
}

const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));

export const bench = {
  info: () => ({ userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, hasGc: typeof window.gc === 'function' }),
  cases: {
    scroll: {
      async setup({ records, perSend }) {
        const database = `bench-components-${Date.now()}`;
        // The default host, as an app has it: the broker in a SharedWorker, the elements in the page.
        client = createClient({ clientId: 'bench', database, logCleanerIntervalMs: 0 });
        producer = client.producer();
        await producer.connect();
        const value = { id: 0, customer: 'c-ada', item: 'Coffee beans', qty: 2, total: 28, note: 'x'.repeat(20) };
        for (let i = 0; i < records; i += perSend) {
          await producer.send({ topic: 'big', messages: Array.from({ length: perSend }, (_, j) => ({ key: `order-${i + j}`, value: { ...value, id: i + j }, partition: 0 })) });
        }
        browser = document.createElement('lanes-record-browser');
        browser.setAttribute('topic', 'big');
        browser.client = client;
        document.getElementById('stage').append(browser);
        const root = () => browser.shadowRoot;
        while (!(root()?.querySelector('#r-0')?.textContent ?? '').includes('order-0')) await nextFrame();
        // The baseline: a plain element of the same size and content height, with rows that never change.
        plain = document.createElement('div');
        plain.style.cssText = 'height:420px;overflow-y:auto;contain:strict;font:14px ui-monospace,monospace';
        const content = document.createElement('div');
        content.style.cssText = 'position:relative;height:8000000px';
        for (let i = 0; i < 20; i++) {
          const row = document.createElement('div');
          row.style.cssText = `position:absolute;top:${i * 32}px;height:32px;left:0;right:0;border-bottom:1px solid #ddd;white-space:nowrap;overflow:hidden`;
          row.textContent = `${i} 2026-01-01 00:00:00.000 order-${i} ${JSON.stringify({ ...value, id: i })}`;
          content.append(row);
        }
        plain.append(content);
        document.getElementById('stage').append(plain);
      },
      async round({ frames }) {
        const vp = browser.shadowRoot.querySelector('.viewport');
        const max = vp.scrollHeight - vp.clientHeight;
        const base = await scrollFrames(plain, pattern(plain.scrollHeight - plain.clientHeight, frames));
        const lanes = await scrollFrames(vp, pattern(max, frames));
        // Rows left "loading" at the end would mean the reads fell behind; wait for the last screen.
        const t0 = performance.now();
        while ([...browser.shadowRoot.querySelectorAll('.row .muted')].some((x) => x.textContent === 'loading')) await nextFrame();
        return {
          p50: pct(lanes, 50), p95: pct(lanes, 95), p99: pct(lanes, 99), over50: lanes.filter((x) => x > 50).length,
          baseP50: pct(base, 50), baseP95: pct(base, 95), baseP99: pct(base, 99),
          settleMs: performance.now() - t0,
          rows: Number(browser.shadowRoot.querySelector('.status span:last-child')?.textContent.replace(/\D/g, '')),
        };
      },
      async teardown() {
        browser?.remove();
        plain?.remove();
        await producer?.disconnect();
      },
    },
  },
};
