/**
 * The record encoder in each engine the browser suites run: in Firefox it loads
 * protocol/joint-json.ts and stringifies a send's JSON values with one call; elsewhere it
 * stringifies value by value. Either way the payload is the plain reference's, byte for byte.
 */
import { expect } from '@esm-bundle/chai';
import { encodeRecords } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/types.js';
import { referencePayload } from '../helpers/record-reference.js';
import { describe, it } from '../log/mocha-globals.js';

const NOW = 1_700_000_000_000;
const firefox = navigator.userAgent.includes('Firefox/');

/** Encodes `messages`, counting the JSON.stringify calls it makes. */
function encodeCounted(messages: Message[]): { calls: number; payload: number[] } {
  const stringify = JSON.stringify;
  let calls = 0;
  JSON.stringify = function (this: JSON, ...args: Parameters<typeof stringify>) { calls++; return stringify.apply(this, args); } as typeof stringify;
  try {
    const payload = Array.from(encodeRecords(messages, NOW).payload);
    return { calls, payload };
  } finally {
    JSON.stringify = stringify;
  }
}

describe('record encoder in this engine', () => {
  it(`writes the reference bytes for 1,000 JSON values, ${firefox ? 'with one JSON.stringify (Firefox)' : 'one JSON.stringify per value'}`, async () => {
    const messages: Message[] = Array.from({ length: 1000 }, (_, i) => ({
      key: i % 3 ? `k-${i}` : null,
      value: i % 97 === 5 ? `text ${i}` : { id: i, user: `user-${i % 1000}`, path: `/p/${i}`, q: 'say "hi"\\\n', n: [i / 3, true, null], pad: 'x'.repeat(i % 40) },
      headers: i % 50 === 0 ? { h: `v${i}`, b: new Uint8Array([i & 255]) } : undefined,
    }));
    const json = messages.filter((m) => typeof m.value !== 'string').length;
    // Firefox loads the joint path on demand, when the encoder module loads: the same module
    // imported here has been evaluated once this resolves, and the encoder's reaction to it
    // is queued ahead of this one.
    if (firefox) await import('../../src/protocol/joint-json.js');
    const { calls, payload } = encodeCounted(messages);
    expect(payload).to.deep.equal(referencePayload(messages, NOW));
    expect(calls).to.equal(firefox ? 1 : json);
  });
});
