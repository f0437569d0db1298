/**
 * Batch payload compression (KafkaJS's CompressionTypes). GZIP goes through the platform's
 * CompressionStream (browsers, workers and Node 18+), so lanes carries no codec of its own.
 * A stored batch records its codec in `compression`; its CRC covers the stored (compressed)
 * bytes. Whoever reads records out of a payload (consumers, the cleaner, time lookups)
 * decompresses it first with {@link plainBatch}.
 */
import { UnsupportedCompressionTypeError } from '../errors.js';
import type { RecordBatch } from './record-batch.js';

/** KafkaJS's codec numbers (Kafka's batch attribute bits 0-2). */
export const Codec = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;

/** Throws UnsupportedCompressionTypeError for a codec lanes cannot write (only None and GZIP). */
export function checkCodec(codec: unknown, field: string): void {
  if (codec === undefined || codec === null || codec === Codec.None || codec === Codec.GZIP) return;
  const name = Object.keys(Codec).find((k) => Codec[k as keyof typeof Codec] === codec) ?? String(codec);
  throw new UnsupportedCompressionTypeError(`${field}: ${name} compression is not supported; use CompressionTypes.GZIP or None`, { details: { field, compression: codec } });
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream)).arrayBuffer());
}

/** GZIP-compresses a payload. */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new CompressionStream('gzip'));
}

/** {@link plainBatch} of each. */
export function plainBatches<B extends Pick<RecordBatch, 'payload' | 'compression'>>(batches: B[]): Promise<B[]> {
  return batches.some((b) => b.compression) ? Promise.all(batches.map(plainBatch)) : Promise.resolve(batches);
}

/** The batch with its records' bytes uncompressed (the same object when it is not compressed). */
export async function plainBatch<B extends Pick<RecordBatch, 'payload' | 'compression'>>(b: B): Promise<B> {
  if (!b.compression) return b;
  return { ...b, payload: await pipe(b.payload, new DecompressionStream('gzip')), compression: undefined };
}
