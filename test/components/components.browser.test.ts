/**
 * The lit elements in real Chromium and Firefox, on a real IndexedDB log (broker in the page): rendering
 * with data, paging a partition, live updates on append, keyboard use, the sync status from
 * status objects, without sync, with a mirror failing against a replica that is down, and with a
 * mirror failing and then clearing against a real replica server (the web-test-runner config starts
 * it from dist/), and no axe-core violation in light or dark.
 */
import { expect } from '@esm-bundle/chai';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { createClient, type Client } from '../../src/index.js';
import '../../src/components/index.js';
import type { LanesInspector, LanesRecordBrowser, LanesSyncStatus, LanesTopicView, LanesGroupView } from '../../src/components/index.js';
import { afterEach, describe, it } from '../log/mocha-globals.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

/** A client on a fresh database with topic `orders` (3 partitions) and a producer. */
async function setup(records = 0, partition = 0) {
  const database = `components-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const client = createClient({ clientId: 'components-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
  const producer = client.producer();
  await producer.connect();
  cleanup.push(async () => { await producer.disconnect(); await admin.disconnect(); });
  for (let i = 0; i < records; i += 500) {
    await producer.send({ topic: 'orders', messages: Array.from({ length: Math.min(500, records - i) }, (_, j) => ({ key: `order-${i + j}`, value: { id: i + j, total: (i + j) * 3 }, headers: { source: 'test' }, partition })) });
  }
  return { client, admin, producer, database };
}

/** Mounts an element with the client. */
async function mount<T extends HTMLElement>(tag: string, client: Client | null, attrs: Record<string, string> = {}): Promise<T> {
  const el = document.createElement(tag) as T & { client?: Client; updateComplete: Promise<unknown> };
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (client) el.client = client;
  document.body.append(el);
  cleanup.push(() => el.remove());
  await el.updateComplete;
  return el;
}

/** Waits until `cond` holds, re-checking on every animation frame (the elements render on their own schedule). */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}; page shows: ${shown()}`);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
  }
}

/** The text of the elements on the page, for timeout messages. */
function shown(): string {
  return [...document.body.children].map((el) => `<${el.localName}> ${text(el.shadowRoot ?? el).slice(0, 600)}`).join(' | ');
}

const text = (el: Node | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const $ = (el: HTMLElement, sel: string) => el.shadowRoot!.querySelector(sel) as HTMLElement | null;
const $$ = (el: HTMLElement, sel: string) => [...el.shadowRoot!.querySelectorAll(sel)] as HTMLElement[];

/** axe-core, loaded once as the page script it is. */
async function axe(): Promise<{ run(ctx: unknown, opts?: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: unknown }[] }[] }> }> {
  const w = window as unknown as { axe?: unknown };
  if (!w.axe) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/node_modules/axe-core/axe.min.js';
      s.onload = resolve;
      s.onerror = reject;
      document.head.append(s);
    });
  }
  return w.axe as never;
}

async function expectNoViolations(el: HTMLElement): Promise<void> {
  const { violations } = await (await axe()).run(el, { resultTypes: ['violations'] });
  expect(violations.map((v) => `${v.id}: ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`)).to.deep.equal([]);
}

describe('<lanes-topic-view>', () => {
  it('shows topics with their partitions and watermarks, and updates live on append', async () => {
    const { client, producer } = await setup(7, 1);
    const view = await mount<LanesTopicView>('lanes-topic-view', client);
    const cells = () => $$(view, 'tbody tr').map((r) => [...r.querySelectorAll('th, td')].map((c) => text(c)));
    await until(() => cells().length === 3 && cells()[1]![2] === '7', 'three partition rows');
    const rows = cells();
    expect(rows).to.deep.equal([['0', '0', '0', '—', '0'], ['1', '0', '7', '—', '7'], ['2', '0', '0', '—', '0']]);
    expect(text($(view, 'h2'))).to.equal('orders');
    // Live: an append in this or any tab reaches the view without a reload or a timer.
    await producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 2 }, { value: 'y', partition: 2 }] });
    await until(() => cells()[2]!.join(' ') === '2 0 2 — 2', 'partition 2 high watermark 2');
    // A topic created later appears.
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'customers', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await admin.disconnect();
    await until(() => $$(view, 'h2').map(text).join(',') === 'customers,orders', 'new topic customers');
    await expectNoViolations(view);
  });

  it('fires lanes-select for a partition chosen with the keyboard', async () => {
    const { client } = await setup(1, 0);
    const view = await mount<LanesTopicView>('lanes-topic-view', client, { topic: 'orders' });
    await until(() => $$(view, 'tbody button').length === 3, 'partition buttons');
    const chosen = new Promise<CustomEvent>((r) => view.addEventListener('lanes-select', (e) => r(e as CustomEvent), { once: true }));
    $$(view, 'tbody button')[1]!.focus();
    await sendKeys({ press: 'Enter' });
    expect((await chosen).detail).to.deep.equal({ topic: 'orders', partition: 1 });
  });
});

describe('<lanes-record-browser>', () => {
  it('pages forward and back, jumps to an offset and shows the record pretty-printed', async () => {
    const { client } = await setup(1000, 0);
    const b = await mount<LanesRecordBrowser>('lanes-record-browser', client, { topic: 'orders', partition: '0' });
    await until(() => text($(b, '.status')).includes('of 0–999') && $(b, '#r-0')?.textContent?.includes('order-0') === true, 'first page loaded');
    const firstRow = () => Number(text($$(b, '.row').find((r) => r.getBoundingClientRect().top >= $(b, '.viewport')!.getBoundingClientRect().top - 1)?.querySelector('.off')));
    expect(firstRow()).to.equal(0);
    const next = $$(b, '.pager button').find((x) => text(x) === 'Next page')!;
    const prev = $$(b, '.pager button').find((x) => text(x) === 'Previous page')!;
    const perPage = Math.floor($(b, '.viewport')!.clientHeight / 32);
    next.click();
    await until(() => firstRow() === perPage, `first row ${perPage} after Next page`);
    next.click();
    await until(() => firstRow() === 2 * perPage, 'second page');
    prev.click();
    await until(() => firstRow() === perPage, 'back one page');
    // Jump far: the page around offset 777 is read on demand.
    const offsetInput = $(b, 'input[name=offset]') as HTMLInputElement;
    offsetInput.value = '777';
    offsetInput.form!.requestSubmit();
    await until(() => firstRow() === 777 && text($(b, '#r-777')).includes('order-777'), 'row 777 loaded at the top');
    expect($(b, '#r-777')!.getAttribute('aria-selected')).to.equal('true');
    await until(() => text($(b, '.details')).includes('"total": 2331'), 'details of 777');
    expect(text($(b, '.details'))).to.include('source: test').and.to.include('order-777');
    expect($(b, '.details pre')!.textContent).to.equal(JSON.stringify({ id: 777, total: 2331 }, null, 2));
    await expectNoViolations(b);
  });

  it('moves through records with the keyboard', async () => {
    const { client } = await setup(300, 0);
    const b = await mount<LanesRecordBrowser>('lanes-record-browser', client, { topic: 'orders', partition: '0' });
    await until(() => text($(b, '#r-0')).includes('order-0'), 'rows');
    const list = $(b, '[role=listbox]')!;
    list.focus();
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowDown' });
    await until(() => list.getAttribute('aria-activedescendant') === 'r-1', 'second row active');
    await sendKeys({ press: 'End' });
    await until(() => list.getAttribute('aria-activedescendant') === 'r-299', 'last row active');
    await until(() => text($(b, '.details')).includes('order-299'), 'details of the last record');
    await sendKeys({ press: 'PageUp' });
    const perPage = Math.floor(list.clientHeight / 32);
    await until(() => list.getAttribute('aria-activedescendant') === `r-${299 - perPage}`, 'one page up');
    await sendKeys({ press: 'Home' });
    await until(() => list.getAttribute('aria-activedescendant') === 'r-0', 'first row active');
    expect(b.shadowRoot!.activeElement).to.equal(list);
  });

  it('shows records appended while it is open, following the end', async () => {
    const { client, producer } = await setup(50, 2);
    const b = await mount<LanesRecordBrowser>('lanes-record-browser', client, { topic: 'orders', partition: '2' });
    await until(() => text($(b, '.status')).includes('of 0–49'), '50 records');
    $$(b, '.pager button').find((x) => text(x) === 'Latest')!.click();
    await until(() => text($(b, '#r-49')).includes('order-49'), 'last record');
    await producer.send({ topic: 'orders', messages: [{ key: 'late', value: { late: true }, partition: 2 }] });
    await until(() => text($(b, '#r-50')).includes('late'), 'the appended record shown');
    expect(text($(b, '.status'))).to.include('of 0–50');
  });
});

describe('<lanes-group-view>', () => {
  it('shows members, assignment, committed offsets and lag, updated by rebalances and commits', async () => {
    const { client, producer } = await setup(10, 0);
    const consumer = client.consumer({ groupId: 'invoicing', heartbeatInterval: 100, maxWaitTimeInMs: 200 });
    await consumer.connect();
    cleanup.push(() => consumer.disconnect());
    await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommitThreshold: 1, eachMessage: async () => { seen++; } });
    const view = await mount<LanesGroupView>('lanes-group-view', client, { group: 'invoicing' });
    await until(() => text($(view, '[part=members] tbody')).includes('components-test') && text($(view, '.badge')) === 'Stable', 'one stable member');
    const lagRow = (i: number) => [...$$(view, '[part=partitions] tbody tr')[i]?.querySelectorAll('td') ?? []].map((c) => text(c)).join(' ');
    await until(() => seen === 10 && lagRow(0) === 'orders 0 components-test 10 10 0', 'partition 0 committed 10, lag 0');
    expect(text($(view, '[part=members] tbody'))).to.include('orders: 0, 1, 2').and.to.include('no');
    await producer.send({ topic: 'orders', messages: [{ value: 1, partition: 1 }, { value: 2, partition: 1 }] });
    await until(() => lagRow(1) === 'orders 1 components-test 2 2 0', 'partition 1 consumed and committed');
    await consumer.disconnect();
    await until(() => text($(view, '[part=members] tbody')).includes('No members'), 'the member left');
    expect(text($(view, '.badge'))).to.equal('Empty');
    expect(lagRow(0)).to.equal('orders 0 unassigned 10 10 0');
    await expectNoViolations(view);
  });
});

describe('<lanes-group-view> with a topic named constructor', () => {
  it('shows a committed topic named constructor as unassigned beside a member assigned another topic', async () => {
    const { client, admin, producer } = await setup(3, 0);
    await admin.createTopics({ topics: [{ topic: 'constructor' }] });
    await producer.send({ topic: 'constructor', messages: [{ value: 'a' }, { value: 'b' }] });
    await admin.setOffsets({ groupId: 'invoicing', topic: 'constructor', partitions: [{ partition: 0, offset: '1' }] });
    const consumer = client.consumer({ groupId: 'invoicing', heartbeatInterval: 100, maxWaitTimeInMs: 200 });
    await consumer.connect();
    cleanup.push(() => consumer.disconnect());
    await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    const view = await mount<LanesGroupView>('lanes-group-view', client, { group: 'invoicing' });
    const rows = () => $$(view, '[part=partitions] tbody tr').map((r) => [...r.querySelectorAll('td')].map((c) => text(c)).join(' '));
    await until(() => rows().includes('constructor 0 unassigned 1 2 1') && rows().some((r) => r.startsWith('orders 0 components-test')), 'the constructor row and the assigned orders rows');
    expect($(view, '[role=alert]')).to.equal(null);
  });
});

describe('<lanes-sync-status>', () => {
  it('says "Sync off" for a client without sync configured', async () => {
    const { client } = await setup();
    const s = await mount<LanesSyncStatus>('lanes-sync-status', client);
    expect(text($(s, '[part=badge]'))).to.equal('Sync off');
    await expectNoViolations(s);
  });

  it('renders a status object through offline -> online -> synced', async () => {
    const s = await mount<LanesSyncStatus>('lanes-sync-status', null);
    s.status = { configured: true, online: false, state: 'offline', pendingRecords: 1200, pendingBytes: 150_000, lastSuccessAt: null, lastError: { message: 'Failed to fetch' }, progress: null };
    await s.updateComplete;
    expect(text($(s, '[part=badge]'))).to.equal('Offline');
    expect(text($(s, '[part=facts]'))).to.include('1200 records').and.to.include('146.5 KiB').and.to.include('never').and.to.include('Failed to fetch');
    expect(($(s, '[part=retry]') as HTMLButtonElement).disabled).to.equal(true);
    s.status = { configured: true, online: true, state: 'uploading', pendingRecords: 700, pendingBytes: 90_000, lastSuccessAt: Date.now(), lastError: null, progress: { uploaded: 500, total: 1200 } };
    await s.updateComplete;
    expect(text($(s, '[part=badge]'))).to.equal('Uploading');
    const bar = $(s, 'progress') as HTMLProgressElement;
    expect([bar.value, bar.max]).to.deep.equal([500, 1200]);
    expect(text($(s, '[part=facts]'))).to.include('just now');
    await expectNoViolations(s);
    const retried = new Promise((r) => s.addEventListener('lanes-sync-retry', r, { once: true }));
    ($(s, '[part=retry]') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Enter' });
    await retried;
    s.status = { configured: true, online: true, state: 'idle', pendingRecords: 0, pendingBytes: 0, lastSuccessAt: Date.now(), lastError: null, progress: null };
    await s.updateComplete;
    expect(text($(s, '[part=badge]'))).to.equal('Synced');
    expect($(s, 'progress')).to.equal(null);
  });

  it('shows a partition held back by the replica: not "Synced", the partition, offset and reason as text', async () => {
    const s = await mount<LanesSyncStatus>('lanes-sync-status', null);
    const reason = 'batches[0].records[0] is 2097152 bytes; at most 1048576 <b>x</b>';
    s.status = { configured: true, online: true, state: 'idle', pendingRecords: 1, pendingBytes: 2_097_200, lastSuccessAt: Date.now(), lastError: { message: reason },
      progress: null, blocked: [{ topic: 'mixed', partition: 0, baseOffset: 0, message: reason }] };
    await s.updateComplete;
    expect(text($(s, '[part=badge]'))).to.equal('Held back');
    expect($$(s, '[part=held] li').map(text)).to.deep.equal([`Held mixed[0] at offset 0: ${reason}`]);
    expect($(s, '[part=held] b')).to.equal(null);
    expect($(s, '[part=held]')!.closest('[role=status]')).to.not.equal(null);
    await expectNoViolations(s);
    s.status = { configured: true, online: true, state: 'idle', pendingRecords: 0, pendingBytes: 0, lastSuccessAt: Date.now(), lastError: null, progress: null, blocked: [] };
    await s.updateComplete;
    expect(text($(s, '[part=badge]'))).to.equal('Synced');
    expect($(s, '[part=held]')).to.equal(null);
  });

  it('shows each mirror following or failing with its last error as text, in light and dark, until it clears', async () => {
    const evil = '<img src=x onerror="window.__lanesInjected=1">';
    const base = { configured: true, online: true, state: 'idle', pendingRecords: 0, pendingBytes: 0, lastSuccessAt: Date.now(), lastError: null, progress: null };
    const colours: string[] = [];
    for (const theme of ['light', 'dark']) {
      // The element's background is transparent (it sits in the page's own bar): a dark page behind the dark theme.
      document.body.style.background = theme === 'dark' ? '#0d1117' : '';
      cleanup.push(() => { document.body.style.background = ''; });
      const s = await mount<LanesSyncStatus>('lanes-sync-status', null, { theme });
      s.status = { ...base, lastError: { message: 'Failed to fetch' }, mirrors: [
        { topic: 'orders', into: 'orders-all', lastError: { message: `record at offset 0 is larger than max.message.bytes ${evil}`, at: Date.now() } },
        { topic: 'chat', into: 'chat-all' },
      ] };
      await s.updateComplete;
      const items = $$(s, '[part=mirrors] li');
      expect(items.map(text)).to.deep.equal([
        `Mirror orders → orders-all: failing: record at offset 0 is larger than max.message.bytes ${evil}`,
        'Mirror chat → chat-all: following',
      ]);
      const failing = items[0]!.querySelector('.danger') as HTMLElement;
      expect(failing.textContent).to.include(evil);
      // Styled like the element's own error (the theme's danger colour for this theme).
      expect(getComputedStyle(failing).color).to.equal(getComputedStyle($(s, '[part=facts] dd.danger')!).color);
      colours.push(getComputedStyle(failing).color);
      expect($(s, 'img')).to.equal(null);
      expect((window as { __lanesInjected?: number }).__lanesInjected).to.equal(undefined);
      expect($(s, '[part=mirrors]')!.closest('[role=status]')).to.not.equal(null);
      await expectNoViolations(s);
      s.status = { ...base, mirrors: [{ topic: 'orders', into: 'orders-all', lastError: null }, { topic: 'chat', into: 'chat-all', stopped: true }] };
      await s.updateComplete;
      expect($$(s, '[part=mirrors] li').map(text)).to.deep.equal(['Mirror orders → orders-all: following', 'Mirror chat → chat-all: stopped']);
      expect($(s, '[part=mirrors] .danger')).to.equal(null);
      s.remove();
    }
    expect(colours[0]).to.not.equal(colours[1]);
  });

  it('shows the failing mirror of a real client whose replica is down', async () => {
    const database = `components-sync-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    // Port 9 (discard) has no listener on loopback: every request to the replica fails.
    const client = createClient({ clientId: 'components-test', database, broker: 'in-page', logCleanerIntervalMs: 0, sync: { url: 'http://127.0.0.1:9', token: 't', serviceWorker: false, persist: false, mirrorIntervalMs: 200 } });
    const admin = client.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    const s = await mount<LanesSyncStatus>('lanes-sync-status', client);
    await client.sync.mirror({ topic: 'prices', into: 'prices-here' });
    await until(() => text($(s, '[part=mirrors]')).startsWith('Mirror prices → prices-here: failing: '), 'the failing mirror');
    const shown = text($(s, '[part=mirrors] .danger')).slice('failing: '.length);
    const status = await client.sync.status();
    expect(status.mirrors).to.have.length(1);
    expect(shown).to.equal(status.mirrors[0]!.lastError!.message);
    expect(shown).to.not.equal('');
    await expectNoViolations(s);
    await client.sync.stopMirror('prices-here');
    await until(() => text($(s, '[part=mirrors]')) === 'Mirror prices → prices-here: stopped', 'the stopped mirror');
  });
  it('shows a mirror failing on a replica record its topic refuses (max.message.bytes), and clears it once a round writes', async () => {
    const replica = await executeServerCommand<{ url: string; token: string }, undefined>('lanes-replica-start');
    cleanup.push(() => executeServerCommand('lanes-replica-stop', replica.url));
    const device = (name: string) => {
      const database = `components-${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      return createClient({ clientId: 'components-test', database, broker: 'in-page', logCleanerIntervalMs: 0, sync: { url: replica.url, token: replica.token, serviceWorker: false, persist: false, mirrorIntervalMs: 200 } });
    };
    // Another device uploads a 2000-byte record to the replica's topic `big`.
    const other = device('other');
    const producer = other.producer();
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    await producer.send({ topic: 'big', messages: [{ value: 'x'.repeat(2000) }] });
    await new Promise<void>((resolve) => {
      const check = (st: { lastSuccessAt: number | null; pendingRecords: number }) => { if (st.lastSuccessAt && st.pendingRecords === 0) { off(); resolve(); } };
      const off = other.sync.on('status', check);
      void other.sync.status().then(check);
    });
    // This device mirrors it into a topic that refuses records over 1000 bytes.
    const client = device('this');
    const admin = client.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'big-all', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '1000' }] }] });
    const s = await mount<LanesSyncStatus>('lanes-sync-status', client);
    await client.sync.mirror({ topic: 'big', into: 'big-all' });
    await until(() => /^Mirror big → big-all: (following|failing: )/.test(text($(s, '[part=mirrors]'))), 'the mirror listed once mirror() returns');
    await until(() => /^Mirror big → big-all: failing: .*max\.message\.bytes/.test(text($(s, '[part=mirrors]'))), 'the failing mirror');
    expect($(s, '[part=mirrors] .danger')).to.not.equal(null);
    await expectNoViolations(s);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'big-all', configEntries: [{ name: 'max.message.bytes', value: '100000' }] }] });
    await until(() => text($(s, '[part=mirrors]')) === 'Mirror big → big-all: following', 'the mirror error to clear');
    expect($(s, '[part=mirrors] .danger')).to.equal(null);
    expect((await admin.fetchTopicOffsets('big-all'))[0]!.high).to.equal('1');
  });
});

describe('<lanes-inspector>', () => {
  it('switches tabs with the arrow keys and opens a partition from the topics tab', async () => {
    const { client } = await setup(20, 1);
    const ins = await mount<LanesInspector>('lanes-inspector', client);
    const tabs = () => $$(ins, '[role=tab]');
    expect(tabs().map(text)).to.deep.equal(['Topics', 'Records', 'Groups', 'Produce']);
    tabs()[0]!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await until(() => ins.tab === 'records' && ins.shadowRoot!.activeElement === tabs()[1], 'records tab focused');
    await sendKeys({ press: 'End' });
    await until(() => ins.tab === 'produce', 'produce tab');
    await sendKeys({ press: 'Home' });
    await until(() => ins.tab === 'topics', 'back to topics');
    const topics = $(ins, 'lanes-topic-view')!;
    await until(() => $$(topics, 'tbody button').length === 3, 'topic rows');
    $$(topics, 'tbody button')[1]!.click();
    await until(() => ins.tab === 'records', 'records tab opened');
    const browser = $(ins, 'lanes-record-browser')!;
    await until(() => text($(browser, '.status')).includes('of 0–19') && text($(browser, '#r-0')).includes('order-0'), 'partition 1 shown');
    await expectNoViolations(ins);
    expect(getComputedStyle(ins).colorScheme).to.equal('light');
    ins.setAttribute('theme', 'dark');
    await ins.updateComplete;
    // The dark palette applies: its background and color-scheme.
    expect(getComputedStyle(ins).backgroundColor).to.equal('rgb(13, 17, 23)');
    expect(getComputedStyle(ins).colorScheme).to.equal('dark');
    await expectNoViolations(ins);
  });

  it('produces a record from its form', async () => {
    const { client } = await setup();
    const ins = await mount<LanesInspector>('lanes-inspector', client, { tab: 'produce' });
    const form = $(ins, 'lanes-produce-form')!;
    await (form as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    const f = $(form, 'form') as HTMLFormElement;
    (f.elements.namedItem('topic') as HTMLInputElement).value = 'orders';
    (f.elements.namedItem('key') as HTMLInputElement).value = 'order-42';
    (f.elements.namedItem('value') as HTMLTextAreaElement).value = '{"status":"new"}';
    // A repeated name and names like Object.prototype members keep every value.
    (f.elements.namedItem('headers') as HTMLTextAreaElement).value = 'trace=a\ntrace=b\n__proto__=p\nconstructor=c\ntrace=c';
    const produced = new Promise<CustomEvent>((r) => ins.addEventListener('lanes-produced', (e) => r(e as CustomEvent), { once: true }));
    f.requestSubmit();
    const { detail } = await produced;
    expect(detail.topic).to.equal('orders');
    expect(detail.offset).to.equal('0');
    const reader = client.consumer({ maxWaitTimeInMs: 100 });
    await reader.connect();
    cleanup.push(() => reader.disconnect());
    reader.assign([{ topic: 'orders', partition: detail.partition, offset: '0' }]);
    const got = new Promise<Record<string, unknown>>((r) => { void reader.run({ eachMessage: async ({ message }) => r(message.headers as Record<string, unknown>) }); });
    const headers = await got;
    expect(Object.entries(headers)).to.deep.equal([['trace', ['a', 'b', 'c']], ['__proto__', 'p'], ['constructor', 'c']]);
    await until(() => text($(form, '[part=result]')).startsWith('Written to orders partition'), 'result line');
    await expectNoViolations(ins);
  });
});
