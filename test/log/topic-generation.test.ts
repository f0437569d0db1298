// A topic's generation (its row's createdAt) tells a topic deleted and created again from its
// earlier self: the tail window and the replica's dedupe key rely on it. A frozen clock, as a
// fast delete-and-create within one millisecond, still gives a new generation.
import { describe, expect, it } from 'vitest';
import { openStore } from './log-helpers.js';

describe('topic generation', () => {
  it('a topic deleted and created again within the same millisecond gets a later createdAt', async () => {
    const { store } = await openStore({ now: () => 1_700_000_000_000 });
    try {
      const first = await store.createTopic('t', 1);
      await store.deleteTopic('t');
      const second = await store.createTopic('t', 1);
      await store.deleteTopic('t');
      const third = await store.createTopic('t', 1);
      expect(first.createdAt).toBe(1_700_000_000_000);
      expect(second.createdAt).toBeGreaterThan(first.createdAt);
      expect(third.createdAt).toBeGreaterThan(second.createdAt);
      expect(store.topics.get('t')!.createdAt).toBe(third.createdAt);
      // Another topic is not held back by it.
      expect((await store.createTopic('u', 1)).createdAt).toBe(1_700_000_000_000);
    } finally {
      store.close();
    }
  });
});
