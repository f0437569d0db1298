/**
 * The JetStream store's shared helpers and its small documents: each tenant's topics and next
 * producer id on the `LANES_META` stream, and group offsets in the `lanes_groups` KV bucket.
 *
 * Invariants:
 * - Topics and producer ids change only by compare-and-set on LANES_META's last sequence
 *   (`Nats-Expected-Last-Sequence`), so concurrent servers never lose an update. KV revisions
 *   are not used for this: nats-server 2.9 checks per-subject expectations against applied
 *   state only, so two concurrent updates of one key on a cluster can both pass.
 * - A topic's partition count only grows.
 * - Group offsets are one KV key per committed partition: a commit never reads-modifies-writes.
 */
import { createHash } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, KV, StoredMsg } from 'nats';
import type { GroupOffset } from '../store.js';

/** First `n` hex digits of sha256(s). */
export const sha = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);
/** UTF-8 bytes of s as hex (safe in subjects and KV keys). */
export const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/** JetStream API error code of an error, if any. */
export function apiCode(e: unknown): number | undefined {
  return (e as { api_error?: { err_code?: number } })?.api_error?.err_code;
}

/** "no message found". */
export const isNotFound = (e: unknown) => apiCode(e) === 10037 || /no message found/i.test(String((e as Error)?.message));
/** A failed `Nats-Expected-Last-Sequence`: someone wrote first. */
export const isWrongLast = (e: unknown) => apiCode(e) === 10071 || /wrong last sequence/i.test(String((e as Error)?.message));
/** "stream not found". */
export const isStreamMissing = (e: unknown) => apiCode(e) === 10059 || /stream not found/i.test(String((e as Error)?.message));

/** Errors worth retrying: timeouts, no responders, leader elections, reconnects. */
export function isTransient(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  const msg = String((e as Error)?.message ?? '');
  return code === 'TIMEOUT' || code === '503' || code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DRAINING' || code === 'DISCONNECT'
    || /timeout|no responders|unavailable|leader|not current|catchup|insufficient resources|cluster|connection/i.test(msg);
}

/** A stored message, or null when there is none (not found). */
export async function getMessage(jsm: JetStreamManager, stream: string, q: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(stream, q);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** Topics, producer ids and group offsets of every tenant. */
export class JetStreamMeta {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly groupsKv: KV,
    private readonly retry: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  private msg(stream: string, q: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
    return getMessage(this.jsm, stream, q);
  }

  /** A tenant's topics: name -> partition count. */
  async topicsOf(tenant: string): Promise<Record<string, number>> {
    const m = await this.retry(() => this.msg('LANES_META', { last_by_subj: `lanes_meta.topics.${tenant}` }));
    return m ? (JSON.parse(new TextDecoder().decode(m.data)) as Record<string, number>) : {};
  }

  /**
   * Compare-and-set of a meta subject: `change` maps the current JSON (null when none) to the
   * next, or null to leave it. Returns the value written or kept.
   */
  async casMeta<T>(subject: string, change: (cur: T | null) => T | null): Promise<T | null> {
    for (;;) {
      const res = await this.retry(async () => {
        const tail = await this.msg('LANES_META', { last_by_subj: 'lanes_meta.>' });
        const m = await this.msg('LANES_META', { last_by_subj: subject });
        const cur = m ? (JSON.parse(new TextDecoder().decode(m.data)) as T) : null;
        const next = change(cur);
        if (next === null) return { done: true as const, value: cur };
        try {
          await this.js.publish(subject, new TextEncoder().encode(JSON.stringify(next)), { expect: { lastSequence: tail?.seq ?? 0, streamName: 'LANES_META' } });
          return { done: true as const, value: next };
        } catch (e) {
          if (isWrongLast(e)) return { done: false as const, value: null };
          throw e;
        }
      });
      if (res.done) return res.value;
    }
  }


  /** Allocates the tenant's next producer id. */
  async allocateProducerId(tenant: string): Promise<number> {
    let got = -1;
    await this.casMeta<{ next: number }>(`lanes_meta.pid.${tenant}`, (cur) => {
      got = cur?.next ?? 0;
      return { next: got + 1 };
    });
    return got;
  }

  private groupPrefix(tenant: string, groupId: string): string {
    return `${tenant}.g${hex(groupId)}`;
  }

  /** Puts one key per committed partition. */
  async commitOffsets(tenant: string, groupId: string, offsets: readonly GroupOffset[]): Promise<void> {
    const prefix = this.groupPrefix(tenant, groupId);
    await Promise.all(offsets.map((o) => this.retry(() =>
      this.groupsKv.put(`${prefix}.${hex(o.topic)}.${o.partition}`, JSON.stringify({ offset: o.offset, metadata: o.metadata })))));
  }

  /** Committed offsets of a group, optionally of some topics only. */
  async fetchOffsets(tenant: string, groupId: string, topics: readonly string[] | null): Promise<GroupOffset[]> {
    const prefix = this.groupPrefix(tenant, groupId);
    const keys: string[] = [];
    for await (const k of await this.retry(() => this.groupsKv.keys(`${prefix}.>`))) keys.push(k);
    const out: GroupOffset[] = [];
    await Promise.all(keys.map(async (k) => {
      const [, , th, p] = k.split('.');
      const topic = Buffer.from(th!, 'hex').toString('utf8');
      if (topics && !topics.includes(topic)) return;
      const e = await this.retry(() => this.groupsKv.get(k));
      if (!e || e.operation !== 'PUT' || !e.value.length) return;
      const v = JSON.parse(e.string()) as { offset: number; metadata: string | null };
      out.push({ topic, partition: Number(p), offset: v.offset, metadata: v.metadata });
    }));
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** Groups with committed offsets. */
  async listGroups(tenant: string): Promise<string[]> {
    const groups = new Set<string>();
    for await (const k of await this.retry(() => this.groupsKv.keys(`${tenant}.>`))) {
      groups.add(Buffer.from(k.split('.')[1]!.slice(1), 'hex').toString('utf8'));
    }
    return [...groups].sort();
  }
}
