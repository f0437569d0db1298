/** Random ids for broker hosts, group members and static instance ids [pure]. */

/** A random id: a UUID where the platform has one, else time + random base-36. */
export function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
