/**
 * A raw Kafka connection for tests [test only]: sends arbitrary frames and reports, for each,
 * the response frame with its correlation id or that the server closed the connection.
 */
import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';
import { decodeMessage, encodeMessage, type MessageSpec, type Msg } from '../../../src/replica/kafka/schema.js';
import { Reader, Writer } from '../../../src/replica/kafka/wire.js';

/** What became of a frame. */
export type Outcome = { kind: 'response'; correlationId: number; body: Buffer } | { kind: 'closed' };

/** One raw TCP connection to a Kafka listener. */
export class RawKafkaConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 4) {
        const size = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + size) break;
        this.frames.push(this.buf.subarray(4, 4 + size));
        this.buf = this.buf.subarray(4 + size);
      }
      this.wake();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => { this.closed = true; this.wake(); });
  }

  /** Connects to host:port. */
  static open(port: number, host = '127.0.0.1'): Promise<RawKafkaConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => { s.off('error', reject); resolve(new RawKafkaConnection(s)); });
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Writes raw bytes (a frame with its size prefix, or anything else). */
  write(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** The next response frame, or 'closed' once the server closed the connection. */
  async next(): Promise<Outcome> {
    for (;;) {
      const f = this.frames.shift();
      // A frame too short for a correlation id (SASL v0's raw token answer) reports -1.
      if (f) return f.length < 4 ? { kind: 'response', correlationId: -1, body: f } : { kind: 'response', correlationId: f.readInt32BE(0), body: f.subarray(4) };
      if (this.closed) return { kind: 'closed' };
      await new Promise<void>((r) => { this.waiter = r; });
    }
  }

  /** Stops reading from the socket (responses pile up at the server). */
  pause(): void {
    this.socket.pause();
  }

  /** Reads again. */
  resume(): void {
    this.socket.resume();
  }

  /** Closes the client side. */
  close(): void {
    this.socket.destroy();
  }
}

/** A request frame: size, apiKey, version, correlationId, clientId, then `body` (header v1). */
export function requestFrame(apiKey: number, version: number, correlationId: number, body: Uint8Array, clientId = 'test'): Buffer {
  const id = Buffer.from(clientId);
  const head = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length);
  head.writeInt32BE(head.length - 4 + body.length, 0);
  head.writeInt16BE(apiKey, 4);
  head.writeInt16BE(version, 6);
  head.writeInt32BE(correlationId, 8);
  head.writeInt16BE(id.length, 12);
  id.copy(head, 14);
  return Buffer.concat([head, body]);
}

/** One request/response round trip on a raw connection, decoded with the listener's schemas. */
export async function call(c: RawKafkaConnection, req: MessageSpec, res: MessageSpec, version: number, body: Msg, id: number): Promise<Msg> {
  const w = new Writer();
  encodeMessage(req, version, body, w);
  c.write(requestFrame(req.apiKey, version, id, w.finish()));
  const out = await c.next();
  if (out.kind !== 'response') throw new Error('connection closed');
  expect(out.correlationId).toBe(id);
  return decodeMessage(res, version, new Reader(out.body));
}

/** A consumer protocol subscription (version 0, no user data), as a JoinGroup's member metadata. */
export function subscriptionBytes(topics: string[]): Uint8Array {
  const w = new Writer().int16(0).int32(topics.length);
  for (const t of topics) w.string(t);
  return w.bytes(null).finish().slice();
}
