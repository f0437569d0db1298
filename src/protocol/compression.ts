/**
 * Batch payload compression (KafkaJS's CompressionTypes). GZIP goes through the platform's
 * CompressionStream (browsers, workers and Node 18+), so lanes carries no codec of its own.
 * A stored batch records its codec in `compression`; its CRC covers the stored (compressed)
 * bytes. Whoever reads records out of a payload (consumers, the cleaner, time lookups)
 * decompresses it first with {@link plainBatch}. Clients load this module on first use of a
 * compressed batch; the codec numbers and their check are in `codec.ts`.
 */
import type { RecordBatch } from './record-batch.js';

export { Codec, checkCodec } from './codec.js';

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
