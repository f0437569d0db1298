// The order-pipeline demo: orders keyed by order id to `orders` (so an order's `neworder` and
// `updated` events share a partition and stay in order), an `invoicing` group in which exactly
// one open tab invoices each order (to `invoices`), a `notifications` group that also reads
// every order, and a compacted `customers` topic keeping each customer's last address. With a
// replica (npm start) and a client that syncs, the device's log reaches the replica and other
// devices' orders arrive through a mirror.
import { createClient } from '/dist/index.js';
import '/dist/components.js';

const $ = (id) => document.getElementById(id);
const DATABASE = 'orders-demo';
const CUSTOMERS = [['c-ada', 'Ada Lovelace'], ['c-grace', 'Grace Hopper'], ['c-linus', 'Linus Torvalds'], ['c-margaret', 'Margaret Hamilton']];
const PRICES = { 'Coffee beans': 14, Teapot: 32, Mug: 9, Grinder: 48 };
const customerName = (id) => CUSTOMERS.find(([c]) => c === id)?.[1] ?? id;

// A short name for this tab (shown in group views as its clientId) and a device id per browser profile.
const tab = sessionStorage.getItem('demo-tab') ?? `tab-${Math.random().toString(36).slice(2, 6)}`;
sessionStorage.setItem('demo-tab', tab);
const device = localStorage.getItem('demo-device') ?? `device-${Math.random().toString(36).slice(2, 6)}`;
localStorage.setItem('demo-device', device);
$('tab-name').textContent = tab;

/** Orders seen through the mirror (every device's), for tests. */
const mirrored = [];
const config = await fetch('/web/config.json').then((r) => (r.ok ? r.json() : { replica: null })).catch(() => ({ replica: null }));
const client = createClient({
  clientId: tab,
  database: DATABASE,
  ...(config.replica ? { sync: { url: config.replica.url, token: config.replica.token } } : {}),
});
for (const el of [$('sync'), $('inspector')]) el.client = client;

const admin = client.admin();
await admin.connect();
await admin.createTopics({
  topics: [
    { topic: 'orders', numPartitions: 6 },
    { topic: 'invoices', numPartitions: 6 },
    { topic: 'customers', numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.ms', value: '60000' }] },
  ],
});
const producer = client.producer();
await producer.connect();

// ---- orders -----------------------------------------------------------------------------------
for (const [id, name] of CUSTOMERS) {
  for (const sel of [$('customer'), $('address-customer')]) sel.append(new Option(name, id));
}
let seq = 0;
const recent = new Map();

function renderOrders() {
  const rows = [...recent.values()].slice(-8).reverse().map((o) => {
    const tr = document.createElement('tr');
    tr.innerHTML = `<th scope="row"><code></code></th><td></td><td class="num"></td><td></td><td><button type="button">Update</button></td>`;
    tr.querySelector('code').textContent = o.orderId;
    tr.children[1].textContent = customerName(o.customer);
    tr.children[2].textContent = `$${o.total}`;
    tr.children[3].innerHTML = o.events.map((e) => `<span class="tag"></span>`).join('');
    o.events.forEach((e, i) => { tr.children[3].children[i].textContent = e; });
    const btn = tr.querySelector('button');
    btn.setAttribute('aria-label', `Update order ${o.orderId}`);
    btn.onclick = () => void updateOrder(o.orderId);
    return tr;
  });
  $('orders').replaceChildren(...rows);
}

/** Places an order: a `neworder` event keyed by the order id. */
async function placeOrder(customer = $('customer').value, item = $('item').value, qty = Number(new FormData($('order-form')).get('qty') || 1)) {
  const orderId = `${tab.slice(4)}-${++seq}`;
  const order = { type: 'neworder', orderId, customer, item, qty, total: PRICES[item] * qty, device, tab, at: Date.now() };
  await producer.send({ topic: 'orders', messages: [{ key: orderId, value: order, headers: { event: `neworder${orderId}` } }] });
  recent.set(orderId, { ...order, events: [`neworder${orderId}`] });
  renderOrders();
  return orderId;
}

/** Updates an order: an `updated` event with the same key, so it follows its `neworder` in the same partition. */
async function updateOrder(orderId) {
  const o = recent.get(orderId);
  const update = { type: 'updated', orderId, customer: o.customer, item: o.item, qty: o.qty + 1, total: PRICES[o.item] * (o.qty + 1), device, tab, at: Date.now() };
  await producer.send({ topic: 'orders', messages: [{ key: orderId, value: update, headers: { event: `updated${orderId}` } }] });
  Object.assign(o, { qty: update.qty, total: update.total });
  o.events.push(`updated${orderId}`);
  renderOrders();
}

$('order-form').addEventListener('submit', (e) => { e.preventDefault(); void placeOrder(); });
$('burst').addEventListener('click', async () => {
  for (let i = 0; i < 10; i++) {
    const [c] = CUSTOMERS[i % CUSTOMERS.length];
    await placeOrder(c, Object.keys(PRICES)[i % 4], 1 + (i % 3));
  }
});

// ---- invoicing: exactly one tab invoices each order -------------------------------------------
const invoiced = [];
const invoicing = client.consumer({ groupId: 'invoicing', heartbeatInterval: 1000, sessionTimeout: 10000 });
await invoicing.connect();
await invoicing.subscribe({ topics: ['orders'], fromBeginning: true });
const showOwned = (consumer, id) => () => {
  const parts = consumer.assignment().filter((p) => p.topic === 'orders').map((p) => p.partition).sort((a, b) => a - b);
  $(id).textContent = parts.length ? parts.join(', ') : 'none';
};
invoicing.on(invoicing.events.GROUP_JOIN, showOwned(invoicing, 'owned'));
await invoicing.run({
  autoCommitThreshold: 1,
  eachMessage: async ({ partition, message }) => {
    const order = message.value;
    if (order?.type !== 'neworder') return;
    await producer.send({ topic: 'invoices', messages: [{ key: order.orderId, value: { orderId: order.orderId, customer: order.customer, amount: order.total, invoicedBy: tab, orderPartition: partition, orderOffset: message.offset } }] });
    invoiced.push(order.orderId);
    const tr = document.createElement('tr');
    tr.innerHTML = '<th scope="row"><code></code></th><td class="num"></td><td class="num"></td><td class="num"></td>';
    tr.querySelector('code').textContent = order.orderId;
    tr.children[1].textContent = partition;
    tr.children[2].textContent = message.offset;
    tr.children[3].textContent = `$${order.total}`;
    $('invoices').prepend(tr);
    while ($('invoices').children.length > 12) $('invoices').lastChild.remove();
  },
});

// ---- notifications: another group that reads every order ---------------------------------------
const notifications = client.consumer({ groupId: 'notifications', heartbeatInterval: 1000, sessionTimeout: 10000 });
await notifications.connect();
await notifications.subscribe({ topics: ['orders'], fromBeginning: true });
notifications.on(notifications.events.GROUP_JOIN, showOwned(notifications, 'owned-n'));
await notifications.run({
  eachMessage: async ({ message }) => {
    const o = message.value;
    if (!o?.orderId) return;
    const li = document.createElement('li');
    li.textContent = o.type === 'neworder'
      ? `Tell ${customerName(o.customer)}: order ${o.orderId} (${o.qty} × ${o.item}) received.`
      : `Tell ${customerName(o.customer)}: order ${o.orderId} changed to ${o.qty} × ${o.item}.`;
    $('notifications').prepend(li);
    while ($('notifications').children.length > 12) $('notifications').lastChild.remove();
  },
});

// ---- customers: a compacted topic; a free consumer keeps the last address per key -------------
const addresses = new Map();
const renderCustomers = () => {
  $('customers').replaceChildren(...[...addresses].sort().map(([id, a]) => {
    const tr = document.createElement('tr');
    tr.innerHTML = '<th scope="row"></th><td></td><td class="num"></td>';
    tr.children[0].textContent = customerName(id);
    tr.children[1].textContent = a.address;
    tr.children[2].textContent = a.offset;
    return tr;
  }));
};
const customerReader = client.consumer({ maxWaitTimeInMs: 5000 });
await customerReader.connect();
customerReader.assign([0, 1].map((partition) => ({ topic: 'customers', partition, offset: 'earliest' })));
await customerReader.run({
  eachMessage: async ({ message }) => {
    if (message.value === null) addresses.delete(message.key);
    else addresses.set(message.key, { address: message.value.address, offset: `${message.offset}` });
    renderCustomers();
  },
});
$('address-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  await producer.send({ topic: 'customers', messages: [{ key: f.get('customer'), value: { name: customerName(f.get('customer')), address: f.get('address') } }] });
  e.target.reset();
});

// ---- all devices: the replica topic mirrored into a local one (when the client syncs) ----------
if (config.replica && client.sync?.mirror) {
  try {
    // The local topic the replica's `orders` (every device's) is copied into.
    await admin.createTopics({ topics: [{ topic: 'orders-all-devices', numPartitions: 6 }] });
    await client.sync.mirror({ topic: 'orders', into: 'orders-all-devices' });
    $('devices-state').textContent = `Syncing with the replica at ${config.replica.url}. Orders of every device, as the replica holds them (this one is ${device}):`;
    $('devices-table').hidden = false;
    const mirror = client.consumer({ maxWaitTimeInMs: 5000 });
    await mirror.connect();
    const parts = (await admin.fetchTopicOffsets('orders-all-devices')).map((p) => p.partition);
    mirror.assign(parts.map((partition) => ({ topic: 'orders-all-devices', partition, offset: 'earliest' })));
    await mirror.run({
      eachMessage: async ({ message }) => {
        const o = message.value;
        const tr = document.createElement('tr');
        tr.innerHTML = '<th scope="row"><code></code></th><td></td><td></td><td class="num"></td>';
        tr.querySelector('code').textContent = o?.orderId ?? String(message.key);
        tr.children[1].textContent = o?.device === device ? `${o.device} (this device)` : o?.device ?? '?';
        mirrored.push({ orderId: o?.orderId, device: o?.device, type: o?.type });
        tr.children[2].textContent = o?.type ?? '';
        const h = message.headers ?? {};
        tr.children[3].textContent = String(h['lanes-replica-offset'] ?? h['replica-offset'] ?? message.offset);
        $('mirror').prepend(tr);
        while ($('mirror').children.length > 20) $('mirror').lastChild.remove();
      },
    });
  } catch (e) {
    $('devices-state').textContent = `Mirror not available: ${e.message}`;
  }
} else if (config.replica) {
  $('devices-state').textContent = `A replica runs at ${config.replica.url}, but this build of lanes has no client sync yet: records stay on this device.`;
}

// ---- theme: follows the system until the button picks one --------------------------------------
const systemDark = matchMedia('(prefers-color-scheme: dark)');
const isDark = () => (document.documentElement.dataset.theme ?? (systemDark.matches ? 'dark' : 'light')) === 'dark';
const labelTheme = () => { $('theme').textContent = isDark() ? 'Light theme' : 'Dark theme'; };
labelTheme();
systemDark.addEventListener('change', labelTheme);
$('theme').addEventListener('click', () => {
  const theme = isDark() ? 'light' : 'dark';
  document.documentElement.dataset.theme = theme;
  for (const el of document.querySelectorAll('lanes-inspector, lanes-sync-status')) el.setAttribute('theme', theme);
  labelTheme();
});

/** For tests and the console: the demo's state and actions. */
window.demo = {
  tab, device, client, invoiced, mirrored, config,
  placeOrder, updateOrder,
  async placeOrders(n) { const ids = []; for (let i = 0; i < n; i++) ids.push(await placeOrder(CUSTOMERS[i % 4][0], 'Mug', 1)); return ids; },
  /** Every record of a topic, read by a free consumer up to the high watermarks at the call. */
  async readTopic(topic) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const want = offsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
    const out = [];
    if (want === 0) return out;
    const reader = client.consumer({ maxWaitTimeInMs: 200 });
    await reader.connect();
    reader.assign(offsets.map((p) => ({ topic, partition: p.partition, offset: p.low })));
    await new Promise((resolve) => {
      void reader.run({ eachMessage: async ({ partition, message }) => { out.push({ partition, offset: message.offset, key: message.key, value: message.value }); if (out.length >= want) resolve(); } });
    });
    await reader.disconnect();
    return out;
  },
  ownedPartitions: () => invoicing.assignment().filter((p) => p.topic === 'orders').map((p) => p.partition),
};
document.documentElement.dataset.ready = 'true';
