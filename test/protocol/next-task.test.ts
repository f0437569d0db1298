/**
 * queueTask / nextTask where there is no setImmediate (browsers, workers): callbacks run in later
 * tasks, after the microtasks queued before them, in the order they were queued; a cancelled one
 * never runs; and every call goes through one kept MessageChannel instead of a new one each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** next-task.js loaded fresh with setImmediate hidden and MessageChannel counted. */
async function withoutSetImmediate() {
  const made: MessageChannel[] = [];
  const Real = globalThis.MessageChannel;
  vi.stubGlobal('setImmediate', undefined);
  vi.stubGlobal('MessageChannel', class extends Real { constructor() { super(); made.push(this); } });
  const mod = await import('../../src/protocol/next-task.js');
  return { ...mod, made };
}

describe('queueTask without setImmediate', () => {
  it('runs callbacks after the microtasks queued before them, in order, cancelled ones never', async () => {
    const { queueTask, nextTask } = await withoutSetImmediate();
    const order: string[] = [];
    queueTask(() => order.push('task 1'));
    const cancel = queueTask(() => order.push('cancelled'));
    queueTask(() => order.push('task 3'));
    void Promise.resolve().then(() => order.push('microtask'));
    cancel();
    await nextTask();
    expect(order).toEqual(['microtask', 'task 1', 'task 3']);
  });

  it('uses one MessageChannel for every call', async () => {
    const { queueTask, nextTask, made } = await withoutSetImmediate();
    let ran = 0;
    for (let i = 0; i < 50; i++) queueTask(() => ran++);
    await nextTask();
    await nextTask();
    expect(ran).toBe(50);
    expect(made).toHaveLength(1);
  });
});
