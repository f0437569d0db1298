/**
 * Walking a payload's records without decoding their values [pure]: what the log's cleaner
 * (compaction), its timestamp lookups, and a producer placing a refused send again need. Kept
 * apart from the codec (./record-batch.ts) so the page's bundle, which decodes and encodes but
 * never scans, does not carry it: the producer's re-placement chunk and the broker load it.
 *
 * Invariants:
 * - Offsets are rebuilt from the skips exactly as decodeBatch does; no value is decoded.
 * - `keyId` identifies a key by its type and raw bytes: two keys are equal exactly when their
 *   stored type and bytes are.
 */
import { FieldType, Reader } from './record-batch.js';

/** One record as the log's cleaner and index see it: offset, timestamp, key identity, byte range. */
export interface RecordView {
  offset: number;
  timestamp: number;
  /** Key identity for compaction ('' prefix-free: type tag + raw bytes as latin1), null when keyless. */
  keyId: string | null;
  tombstone: boolean;
  /** Byte range of the record's fields after the offset skip, copied when re-encoding. */
  restStart: number;
  restEnd: number;
  attrs: number;
}

/** Walks a payload's records without decoding values. */
export function scanRecords(payload: Uint8Array, baseOffset: number, visit: (r: RecordView) => void): void {
  const r = new Reader(payload);
  let offset = baseOffset - 1;
  while (r.p < payload.length) {
    const len = r.varint();
    const recEnd = r.p + len;
    const attrs = payload[r.p++]!;
    offset += 1 + r.varint();
    const restStart = r.p;
    const ts = r.varint();
    const kt = attrs & 3;
    let keyId: string | null = null;
    if (kt !== FieldType.Null) {
      const kl = r.varint();
      let s = kt === FieldType.String ? 's' : 'b';
      for (let i = r.p; i < r.p + kl; i++) s += String.fromCharCode(payload[i]!);
      keyId = s;
    }
    visit({ offset, timestamp: ts, keyId, tombstone: ((attrs >> 2) & 3) === FieldType.Null, restStart, restEnd: recEnd, attrs });
    r.p = recEnd;
  }
}
