/** KafkaJS's compression codec numbers and the check of a requested codec [pure]. */
import { UnsupportedCompressionTypeError } from '../errors.js';

/** KafkaJS's codec numbers (Kafka's batch attribute bits 0-2). */
export const Codec = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;

/** Throws UnsupportedCompressionTypeError for a codec lanes cannot write (only None and GZIP). */
export function checkCodec(codec: unknown, field: string): void {
  if (codec === undefined || codec === null || codec === Codec.None || codec === Codec.GZIP) return;
  const name = Object.keys(Codec).find((k) => Codec[k as keyof typeof Codec] === codec) ?? String(codec);
  throw new UnsupportedCompressionTypeError(`${field}: ${name} compression is not supported; use CompressionTypes.GZIP or None`, { details: { field, compression: codec } });
}
