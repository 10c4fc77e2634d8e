/** A listener of {@link StoreEvents}. */
// biome-ignore lint/suspicious/noExplicitAny: Keyv's listener type takes any arguments
export type StoreListener = (...args: any[]) => void;

/**
 * The small event emitter Keyv expects of a store (`on('error', …)`), without `node:events`: emitting `'error'`
 * with no listener does not throw, as with Keyv's own emitter, because every failure also rejects the call.
 */
export class StoreEvents {
  readonly #listeners = new Map<string, StoreListener[]>();

  /** Adds `listener` for `event`. */
  on(event: string, listener: StoreListener): this {
    const list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, [listener]);
    else list.push(listener);
    return this;
  }

  /** Removes one registration of `listener` for `event`. */
  off(event: string, listener: StoreListener): this {
    const list = this.#listeners.get(event);
    const index = list === undefined ? -1 : list.indexOf(listener);
    if (list !== undefined && index !== -1) list.splice(index, 1);
    return this;
  }

  /** Adds `listener` for the next `event` only. */
  once(event: string, listener: StoreListener): this {
    const wrapper: StoreListener = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  /** Calls the listeners of `event`; true when there was one. */
  emit(event: string, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const listener of [...list]) listener(...args);
    return true;
  }

  /** The number of listeners of `event`. */
  listenerCount(event: string): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}
