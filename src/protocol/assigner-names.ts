/**
 * The built-in partition assignors as a consumer names them in `partitionAssigners` [pure].
 * Assignment runs in the broker, so the tab needs only their names; the assignors themselves
 * (pure functions, usable anywhere) are the `lanes/assigners` entry (src/group/assigners/).
 */

/** An assignor as `partitionAssigners` takes it: by its protocol name. */
export interface AssignerRef {
  /** 'range', 'roundrobin' or 'cooperative-sticky'. */
  readonly name: string;
}

/** The built-in assignors by their KafkaJS-style names: `assigners.cooperativeSticky` (the default), `range`, `roundRobin`. */
export const assigners = {
  range: { name: 'range' },
  roundRobin: { name: 'roundrobin' },
  cooperativeSticky: { name: 'cooperative-sticky' },
} as const satisfies Record<string, AssignerRef>;
