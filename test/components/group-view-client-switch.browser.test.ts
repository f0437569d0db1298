/**
 * `<lanes-group-view>` whose client is replaced, in real Chromium and Firefox (broker in the
 * page, real groups). This is what the demo does: `<lanes-inspector database=...>` starts on a
 * client of its own as soon as the elements are defined, and the page hands it its client a
 * moment later. A call on the first client's admin may then never be answered (the connection
 * of a client whose last user left closes; only the request timeout and the admin's retries
 * end such a call): here the first client's `listGroups` stops answering, as it does then.
 *
 * - A reread left running on the replaced client does not hold up the view: it shows the groups
 *   through the new client (it stayed at "No consumer groups yet").
 * - A start for the replaced client that was still waiting for the broker stops there: it does
 *   not take the view back to that client (whose rereads would never be answered).
 */
import { expect } from '@esm-bundle/chai';
import { createClient, type Client } from '../../src/index.js';
import '../../src/components/index.js';
import type { LanesGroupView } from '../../src/components/index.js';
import { afterEach, describe, it } from '../log/mocha-globals.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

const text = (el: Node | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const groupsShown = (view: LanesGroupView) => [...view.shadowRoot!.querySelectorAll('[part=group] h2')].map(text);

async function until(cond: () => boolean, what: string, view: LanesGroupView, ms = 15_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}; the view shows: ${text(view.shadowRoot)}`);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
  }
}

/** A database with topic `orders`, and the client `b` with a consumer joined in each of `groups`. */
async function withGroups(groups: string[]): Promise<{ database: string; b: Client; join: (groupId: string) => Promise<void> }> {
  const database = `gv-switch-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const b = createClient({ clientId: 'tab-b', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = b.admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
  const join = async (groupId: string) => {
    const c = b.consumer({ groupId, heartbeatInterval: 100, maxWaitTimeInMs: 200 });
    await c.connect();
    cleanup.push(() => c.disconnect());
    await c.subscribe({ topics: ['orders'], fromBeginning: true });
    const joined = new Promise<void>((r) => c.on(c.events.GROUP_JOIN, () => r()));
    await c.run({ eachMessage: async () => undefined });
    await joined;
  };
  for (const g of groups) await join(g);
  return { database, b, join };
}

/**
 * Client `a` on the same database, whose admins' listGroups answer as `answer(n)` says for
 * the n-th call (1-based): 'real', or 'never' (the call is never answered).
 */
function clientA(database: string, answer: (n: number) => 'real' | 'never' | Promise<void>): { a: Client; calls: () => number; called: (n: number) => Promise<void> } {
  const a = createClient({ clientId: 'tab-a', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  let n = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const admin = a.admin.bind(a);
  a.admin = ((config?: Parameters<Client['admin']>[0]) => {
    const ad = admin(config);
    const list = ad.listGroups.bind(ad);
    ad.listGroups = () => {
      const k = ++n;
      for (const w of waiters.filter((x) => x.n === k)) w.resolve();
      const how = answer(k);
      if (how === 'never') return new Promise(() => undefined);
      return how === 'real' ? list() : how.then(() => list());
    };
    return ad;
  }) as Client['admin'];
  return { a, calls: () => n, called: (k) => (n >= k ? Promise.resolve() : new Promise((resolve) => waiters.push({ n: k, resolve }))) };
}

async function mount(client: Client): Promise<LanesGroupView> {
  const view = document.createElement('lanes-group-view');
  view.client = client;
  document.body.append(view);
  cleanup.push(() => view.remove());
  await view.updateComplete;
  return view;
}

describe('<lanes-group-view> given another client', () => {
  it('shows the groups through the new client while a reread on the old one is never answered', async () => {
    const { database, b } = await withGroups(['invoicing']);
    // a's first listGroups (the view's start) answers; the next (its first reread) never does.
    const { a, called } = clientA(database, (n) => (n === 1 ? 'real' : 'never'));
    const view = await mount(a);
    await called(2);
    expect(text(view.shadowRoot)).to.include('No consumer groups yet');
    view.client = b;
    await until(() => groupsShown(view).join() === 'invoicing' && text(view.shadowRoot!.querySelector('[part=members] tbody')).includes('tab-b'), 'the invoicing group with its member', view);
  });

  it('does not go back to the old client when its start resumes after the switch', async () => {
    const { database, b, join } = await withGroups(['invoicing']);
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    // a's first listGroups (the view's start) waits for the test; any later call is never answered.
    const { a, called, calls } = clientA(database, (n) => (n === 1 ? held : 'never'));
    const view = await mount(a);
    await called(1);
    view.client = b;
    await until(() => groupsShown(view).join() === 'invoicing', 'the invoicing group', view);
    // The start for `a` gets its answer now, after the switch; it must stop there.
    release();
    await held;
    await new Promise((r) => setTimeout(r, 0));
    // A new group: shown only by a view that still watches through `b`.
    await join('notifications');
    await until(() => groupsShown(view).join() === 'invoicing,notifications', 'both groups', view);
    expect(calls(), "a's admin was not used after the switch").to.equal(1);
  });
});
