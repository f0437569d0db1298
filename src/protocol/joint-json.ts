/**
 * One JSON.stringify for all the JSON values of a send, for the record encoder in Firefox
 * (protocol/record-batch.ts loads this module on demand there, when it is loaded itself; until
 * then, and in other engines, the encoder stringifies value by value).
 * SpiderMonkey's JSON.stringify costs ~0.2 µs more per call than per item of one array, and
 * the one text's bytes (one `encodeInto`) replace the encoder's per-value UTF-8 loop: a
 * 1,000-record encode of ~100-byte JSON values goes from ~1.0 to ~0.6 ms there. In Chromium
 * one call per value is as fast and the extra passes cost ~10% (bench/ANALYSIS.md, "(a) in
 * Firefox"), so it is not loaded there.
 *
 * The values are stringified as `[v0, '\0', v1, '\0', ...]`: each value's text is followed by
 * MARK, how JSON writes the marker item, and the next starts MARK.length + 1 further on (the
 * first at 1, after the bracket).
 *
 * Invariants:
 * - An answer is given only when every value passed the encoder's validation (so stringify
 *   runs no user `toJSON` and cannot throw), the text is ASCII (its bytes sit at its
 *   characters' positions), and it holds exactly one MARK per value. A value whose own text
 *   holds a MARK (an array item or key `'\0'`) makes more MARKs than values: no answer, and
 *   the encoder stringifies value by value. A MARK cannot straddle a value's text and a
 *   marker: JSON text never ends inside a string, and these values are no strings, so none
 *   begins with a quote.
 * - The encoder takes a value's bytes only while the message still holds the very value
 *   stringified here (identity), so what it writes is byte for byte what one JSON.stringify
 *   per value writes.
 */

/** How JSON.stringify writes the marker item '\0' after an array item. */
const MARK = ',"\\u0000"';
const encoder = new TextEncoder();
/** The last text's bytes (reused: the encoder copies them into its payload before the next encode). */
let bytes = new Uint8Array(0);

/** The JSON values of a send, in order, and each one's bytes (views of one buffer, reused by the next send). */
export type Joint = [values: unknown[], bytes: Uint8Array[]];

/**
 * Stringifies the JSON values of `messages` (those not null, a string or a Uint8Array) with one
 * call; undefined for fewer than 8 messages (one call per value costs as much then) or no JSON
 * value, when a
 * value fails `isJson` (the encoder's per-value path then names it), the text is not ASCII, or
 * a value's text holds a marker.
 */
export function jointJson(messages: readonly { value?: unknown }[], isJson: (v: unknown, depth: number) => boolean): Joint | undefined {
  if (messages.length < 8) return;
  const values: unknown[] = [];
  const marked: unknown[] = [];
  // An indexed loop: Firefox ran the iterator's next() and push() as calls in this function.
  for (let i = 0, n = 0; i < messages.length; i++) {
    const v = messages[i]?.value;
    if (v != null && typeof v != 'string' && !(v instanceof Uint8Array)) {
      if (!isJson(v, 0)) return;
      marked[2 * n] = values[n++] = v;
      marked[2 * n - 1] = '\0';
    }
  }
  if (!values.length) return;
  const text = JSON.stringify(marked);
  // Twice the length: a text that is not ASCII cannot then be written in text.length bytes.
  if (bytes.length < 2 * text.length) bytes = new Uint8Array(2 * text.length);
  if (encoder.encodeInto(text, bytes).written !== text.length) return;
  const parts: Uint8Array[] = [];
  for (let start = 1, end = 0; (end = text.indexOf(MARK, end + 1)) > 0; start = end + MARK.length + 1) parts.push(bytes.subarray(start, end));
  if (parts.length === values.length) return [values, parts];
}
