/**
 * Placing a send's records again, after the broker refused it with UNKNOWN_TOPIC_OR_PARTITION
 * (its topic was deleted, or re-created with fewer partitions, since the producer looked it up).
 * Loaded on first use: most producers never need it.
 *
 * The producer keeps no reference to the caller's message objects once they are encoded (a
 * send's messages would otherwise live, and be promoted, until the send resolves); this module
 * works from what a pending send holds: each partition's encoded records, and per message of
 * each `messages` array the partition it was placed on and whether it named it (`Origin.parts`).
 *
 * Invariants:
 * - A record's bytes are copied, never re-encoded: key, value, headers and timestamp are what
 *   `send()` encoded, even if the caller changed its message objects since.
 * - A record whose message named its partition keeps that partition; on a topic that no longer
 *   has it, the send fails with TopicNotFoundError naming the message (`send.messages[3].partition`).
 * - Any other record goes through the producer's partitioner again, which receives a message
 *   decoded from the record (`{ key, value, headers, timestamp }`, equal to what was sent, not
 *   the caller's object; a JSON value is a parsed copy).
 * - Records of one `messages` array keep that array's order in each partition they land on.
 * - A topic whose partition count is unchanged keeps its placement (nothing is decoded).
 */
import { RecordTooLargeError, TopicNotFoundError } from '../../errors.js';
import type { Partitioner } from '../../partitioner/partitioners.js';
import type { TopicInfo } from '../../protocol/broker-api.js';
import { decodeBatch, type EncodedRecords, type RecordBatch } from '../../protocol/record-batch.js';
import { scanRecords } from '../../protocol/record-scan.js';
import type { KafkaMessage, Message } from '../../types.js';

/** One `messages` array of a send (producer.send's, or one entry of sendBatch's topicMessages). */
export interface Origin {
  topic: string;
  /** Field path of the array, for errors: `send.messages`. */
  field: string;
  /** The topic's partition count the records were placed with. */
  numPartitions: number;
  /** Per message of the array, in order: its partition, or `~partition` when the message named it. */
  parts: number[];
}

/** A send's records for one partition (in the order of their origin's array), with what placing them again needs. */
export interface Placed {
  topic: string;
  partition: number;
  /** Encoded, not compressed. */
  records: EncodedRecords;
  origin: Origin;
}

/** One record being placed again. */
interface Entry { index: number; payload: Uint8Array; start: number; end: number; timestamp: number; fixed: number | undefined; message: KafkaMessage }

/**
 * Places `chunks` again with each topic's current metadata (`info`, already refreshed by the
 * caller) and `partitioner`. Throws, writing nothing, for a named partition the topic lacks or
 * a record over the topic's max.message.bytes. A new chunk carries the other fields of the
 * first chunk of its origin (the producer's pending send).
 */
export async function placeAgain<P extends Placed>(chunks: readonly P[], info: (topic: string) => Promise<TopicInfo>, partitioner: Partitioner): Promise<P[]> {
  const origins = new Map<Origin, P[]>();
  for (const c of chunks) {
    const list = origins.get(c.origin);
    if (list) list.push(c);
    else origins.set(c.origin, [c]);
  }
  const out: P[] = [];
  for (const [origin, group] of origins) {
    const { topic, field } = origin;
    const fresh = await info(topic);
    const n = fresh.numPartitions;
    if (n === origin.numPartitions) {
      out.push(...group);
      continue;
    }
    // Each chunk's records are its partition's messages of the array, in the array's order.
    const indices = new Map<number, number[]>();
    origin.parts.forEach((part, i) => {
      const p = part < 0 ? ~part : part;
      const list = indices.get(p);
      if (list) list.push(i);
      else indices.set(p, [i]);
    });
    const entries: Entry[] = [];
    for (const c of group) {
      const payload = c.records.payload;
      const messages: KafkaMessage[] = [];
      decodeBatch({ payload, baseOffset: 0, timestampType: 'CreateTime' } as RecordBatch, messages);
      const at = indices.get(c.partition)!;
      let k = 0;
      let start = 0;
      scanRecords(payload, 0, (r) => {
        const index = at[k]!;
        entries.push({ index, payload, start, end: r.restEnd, timestamp: r.timestamp, fixed: origin.parts[index]! < 0 ? c.partition : undefined, message: messages[k]! });
        start = r.restEnd;
        k++;
      });
    }
    entries.sort((a, b) => a.index - b.index);
    const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0 }));
    const byPartition = new Map<number, Entry[]>();
    for (const e of entries) {
      let partition = e.fixed;
      if (partition === undefined) {
        const { key, value, headers, timestamp } = e.message;
        const message: Message = { key, value, headers, timestamp };
        partition = partitioner({ topic, partitionMetadata, message });
      } else if (partition >= n) {
        throw new TopicNotFoundError(`${field}[${e.index}].partition ${partition} is out of range: topic ${JSON.stringify(topic)} has ${n} partitions`, { details: { topic, partition } });
      }
      const list = byPartition.get(partition);
      if (list) list.push(e);
      else byPartition.set(partition, [e]);
    }
    const placeOrigin: Origin = { topic, field, numPartitions: n, parts: [] };
    for (const [partition, list] of byPartition) {
      let size = 0, first = Infinity, max = -1, maxRecordBytes = 0;
      for (const e of list) {
        size += e.end - e.start;
        if (e.timestamp < first) first = e.timestamp;
        if (e.timestamp > max) max = e.timestamp;
        if (e.end - e.start > maxRecordBytes) maxRecordBytes = e.end - e.start;
      }
      if (maxRecordBytes > fresh.config.maxMessageBytes) {
        throw new RecordTooLargeError(`a record of ${maxRecordBytes} bytes exceeds max.message.bytes=${fresh.config.maxMessageBytes} of topic ${JSON.stringify(topic)}`, {
          details: { topic, partition, size: maxRecordBytes, max: fresh.config.maxMessageBytes },
        });
      }
      const payload = new Uint8Array(size);
      let o = 0;
      for (const e of list) {
        payload.set(e.payload.subarray(e.start, e.end), o);
        o += e.end - e.start;
      }
      out.push({ ...group[0]!, topic, partition, origin: placeOrigin, records: { count: list.length, firstTimestamp: first, maxTimestamp: max, maxRecordBytes, payload } });
    }
  }
  return out;
}
