/**
 * What sync keeps with the log, in the `meta` store (key -> value, no schema change):
 * - `deviceId`                               a random id of this device's log (the replica's dedupe key)
 * - `syncConfig`                             { url, token, updatedAt }: the last configuration a tab stored;
 *                                            the service worker uploads with it when no tab is open
 * - `['replicated', topic, partition]`       end of what the replica acknowledged (local offsets)
 * - `['mirror', into]`                       { topic, into, stopped? }: a local topic that follows a replica topic
 *
 * Invariants:
 * - A stored replicated offset only grows: {@link saveReplicated} writes max(stored, new) inside
 *   its transaction, so two uploaders (a broker and a service worker one after the other, each
 *   holding the sync lock) can never move it back.
 * - The replicated offset is written after the replica acknowledged and before anything relies
 *   on it (status, retention, `isolation: 'replicated'`); a crash in between only makes the
 *   next uploader resend batches the replica answers as duplicates.
 */
import { randomId } from '../protocol/ids.js';
import { done, S, transaction } from './log-db.js';
import type { LogStore } from './log-store.js';

/** The sync configuration a tab last stored. */
export interface StoredSyncConfig {
  url: string;
  token: string | null;
  updatedAt: number;
}

/** A mirror registration. */
export interface MirrorRow {
  topic: string;
  into: string;
  /** Stopped by stopMirror: still a mirror target (never pushed), not resumed on open. */
  stopped?: boolean;
}

const replicatedKey = (topic: string, partition: number): ['replicated', string, number] => ['replicated', topic, partition];

/** The device id of this log, created on first use. */
export async function deviceIdOf(store: LogStore): Promise<string> {
  const tx = transaction(store.db, [S.meta], 'readwrite', 'deviceId');
  const os = tx.objectStore(S.meta);
  const existing = (await os.get('deviceId')) as string | undefined;
  const id = existing ?? randomId();
  await done(tx, 'deviceId', existing ? [] : [os.put(id, 'deviceId')]);
  return id;
}

/** Reads every stored replicated offset into `store.replicated`. */
export async function loadReplicated(store: LogStore): Promise<void> {
  const tx = transaction(store.db, [S.meta], 'readonly', 'load replicated offsets');
  const os = tx.objectStore(S.meta);
  const range = store.KR.bound(['replicated'], ['replicated', []]);
  const [keys, values] = await Promise.all([os.getAllKeys(range), os.getAll(range)]);
  keys.forEach((k, i) => {
    const [, topic, partition] = k as ['replicated', string, number];
    store.setReplicated(topic, partition, values[i] as number);
  });
}

/** Stores acknowledged ends (never lowering one) and updates `store.replicated`. */
export async function saveReplicated(store: LogStore, acks: { topic: string; partition: number; replicated: number }[]): Promise<void> {
  if (acks.length === 0) return;
  const tx = transaction(store.db, [S.meta], 'readwrite', 'save replicated offsets');
  const os = tx.objectStore(S.meta);
  const writes: Promise<unknown>[] = [];
  const kept = await Promise.all(acks.map(async (a) => {
    const cur = ((await os.get(replicatedKey(a.topic, a.partition))) as number | undefined) ?? 0;
    const next = Math.max(cur, a.replicated);
    if (next !== cur) writes.push(os.put(next, replicatedKey(a.topic, a.partition)));
    return { ...a, replicated: next };
  }));
  await done(tx, 'save replicated offsets', writes);
  for (const a of kept) store.setReplicated(a.topic, a.partition, a.replicated);
}

/** Forgets the replicated offsets and mirror registration of a deleted topic. */
export async function dropReplicated(store: LogStore, topic: string): Promise<void> {
  const tx = transaction(store.db, [S.meta], 'readwrite', `drop sync state of ${topic}`);
  const os = tx.objectStore(S.meta);
  await done(tx, `drop sync state of ${topic}`, [
    os.delete(store.KR.bound(['replicated', topic], ['replicated', topic, []])),
    os.delete(['mirror', topic]),
  ]);
  for (const k of [...store.replicated.keys()]) if (k.startsWith(`${topic}\u0000`)) store.replicated.delete(k);
  store.mirrors.delete(topic);
}

/** The stored sync configuration, if a tab stored one. */
export async function loadSyncConfig(store: LogStore): Promise<StoredSyncConfig | undefined> {
  const tx = transaction(store.db, [S.meta], 'readonly', 'load sync config');
  return (await tx.objectStore(S.meta).get('syncConfig')) as StoredSyncConfig | undefined;
}

/** Stores the sync configuration (url and the latest token) for uploaders without a tab. */
export async function saveSyncConfig(store: LogStore, config: StoredSyncConfig): Promise<void> {
  const tx = transaction(store.db, [S.meta], 'readwrite', 'save sync config');
  await done(tx, 'save sync config', [tx.objectStore(S.meta).put(config, 'syncConfig')]);
}

/** Mirror registrations. */
export async function loadMirrors(store: LogStore): Promise<MirrorRow[]> {
  const tx = transaction(store.db, [S.meta], 'readonly', 'load mirrors');
  return (await tx.objectStore(S.meta).getAll(store.KR.bound(['mirror'], ['mirror', []]))) as MirrorRow[];
}

/** Registers `into` as the local copy of replica topic `topic` (it is then never pushed). */
export async function saveMirror(store: LogStore, row: MirrorRow): Promise<void> {
  const tx = transaction(store.db, [S.meta], 'readwrite', `register mirror ${row.topic} -> ${row.into}`);
  await done(tx, `register mirror ${row.topic} -> ${row.into}`, [tx.objectStore(S.meta).put(row, ['mirror', row.into])]);
  store.mirrors.set(row.into, row.topic);
}
