import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { LayerName } from './events.js';
import type { Outcome } from './outcome.js';

/** What a race does with the outcomes of its two layers. */
export interface RaceRules<A, R> {
  /** True for an outcome that ends the race (a hit, a successful write). */
  wins(outcome: Outcome<A>): boolean;
  /** The first winning outcome. `other` is the other layer's outcome when it had already settled, not winning. */
  won(layer: LayerName, outcome: Outcome<A>, other: Outcome<A> | undefined): Awaitable<R>;
  /** Both layers settled and neither won. */
  lost(l1: Outcome<A>, l2: Outcome<A>): Awaitable<R>;
  /** The losing layer settled after the race was decided. Must not throw. */
  late(layer: LayerName, outcome: Outcome<A>): Awaitable<void>;
}

/**
 * Runs a race between two layer calls already started. A synchronous winner decides at once, without a promise.
 * The loser still runs (a started call cannot be cancelled); `follow` receives the work that handles its end.
 */
export function race<A, R>(
  l1: Awaitable<Outcome<A>>,
  l2: Awaitable<Outcome<A>>,
  rules: RaceRules<A, R>,
  follow: (work: Promise<void>) => void,
): Awaitable<R> {
  const lateOf = (layer: LayerName, pending: PromiseLike<Outcome<A>>): void => {
    follow(Promise.resolve(pending).then((outcome) => rules.late(layer, outcome)));
  };
  if (!isPromiseLike(l1)) {
    if (rules.wins(l1)) {
      if (isPromiseLike(l2)) lateOf('l2', l2);
      else {
        const handled = rules.late('l2', l2);
        if (isPromiseLike(handled)) follow(Promise.resolve(handled));
      }
      return rules.won('l1', l1, undefined);
    }
    if (!isPromiseLike(l2)) return rules.wins(l2) ? rules.won('l2', l2, l1) : rules.lost(l1, l2);
    return Promise.resolve(l2).then((o2) => (rules.wins(o2) ? rules.won('l2', o2, l1) : rules.lost(l1, o2)));
  }
  if (!isPromiseLike(l2)) {
    if (rules.wins(l2)) {
      lateOf('l1', l1);
      return rules.won('l2', l2, undefined);
    }
    return Promise.resolve(l1).then((o1) => (rules.wins(o1) ? rules.won('l1', o1, l2) : rules.lost(o1, l2)));
  }
  return new Promise<R>((resolve, reject) => {
    let first: { layer: LayerName; outcome: Outcome<A> } | undefined;
    let decided = false;
    const deliver = (decide: () => Awaitable<R>): void => {
      decided = true;
      try {
        resolve(decide());
      } catch (error) {
        reject(error);
      }
    };
    const settle = (layer: LayerName, outcome: Outcome<A>, other: PromiseLike<Outcome<A>>): void => {
      if (decided) return;
      if (rules.wins(outcome)) {
        if (first === undefined) lateOf(layer === 'l1' ? 'l2' : 'l1', other);
        const settledOther = first?.outcome;
        deliver(() => rules.won(layer, outcome, settledOther));
      } else if (first === undefined) {
        first = { layer, outcome };
      } else {
        const earlier = first.outcome;
        deliver(() => (layer === 'l1' ? rules.lost(outcome, earlier) : rules.lost(earlier, outcome)));
      }
    };
    void l1.then((outcome) => settle('l1', outcome, l2));
    void l2.then((outcome) => settle('l2', outcome, l1));
  });
}
