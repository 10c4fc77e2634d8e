import type { CacheKey, CacheValue } from '@cache/core';

/** Bytes charged per entry on top of its data and key: the map slot, the list node and the `CacheValue`. */
export const ENTRY_OVERHEAD_BYTES = 96;

/** How many containers and items the estimate visits before it stops counting (bounds the cost of a `set`). */
export const ESTIMATE_MAX_ITEMS = 4096;

const SLOT = 8;

/**
 * A cheap estimate of how many bytes `data` holds, without serializing it: byte length for binary data,
 * two bytes per UTF-16 code unit for strings, 8 bytes per number and per array slot or property (plus its name),
 * walking arrays, plain objects, `Map` and `Set` up to {@link ESTIMATE_MAX_ITEMS} items. Past that budget, and for
 * objects reached twice, it under-counts; pass your own `sizeOf` when that matters.
 */
export function estimateSize(data: unknown): number {
  // The common flat cases, without the walk's stack.
  if (typeof data === 'string') return data.length * 2;
  if (data instanceof Uint8Array) return data.byteLength;
  let total = 0;
  let budget = ESTIMATE_MAX_ITEMS;
  const pending: unknown[] = [data];
  while (pending.length > 0) {
    const item = pending.pop();
    switch (typeof item) {
      case 'string':
        total += item.length * 2;
        continue;
      case 'number':
      case 'bigint':
        total += SLOT;
        continue;
      case 'object':
        break;
      default:
        continue; // booleans, undefined, symbols and functions live in the slot that holds them
    }
    if (item === null) continue;
    if (ArrayBuffer.isView(item)) {
      total += item.byteLength;
      continue;
    }
    if (item instanceof ArrayBuffer) {
      total += item.byteLength;
      continue;
    }
    if (item instanceof Date) {
      total += SLOT * 2;
      continue;
    }
    if (budget <= 0) continue;
    budget--;
    if (Array.isArray(item)) {
      total += item.length * SLOT;
      for (let i = 0; i < item.length && budget > 0; i++, budget--) pending.push(item[i]);
    } else if (item instanceof Map) {
      for (const [k, v] of item) {
        if (budget-- <= 0) break;
        total += SLOT * 2;
        pending.push(k, v);
      }
    } else if (item instanceof Set) {
      for (const v of item) {
        if (budget-- <= 0) break;
        total += SLOT;
        pending.push(v);
      }
    } else {
      const record = item as Record<string, unknown>;
      for (const name in record) {
        if (budget-- <= 0) break;
        total += SLOT + name.length * 2;
        pending.push(record[name]);
      }
    }
  }
  return total;
}

/**
 * The default `sizeOf`: {@link estimateSize} of the data, plus the key's canonical string (two bytes per code
 * unit) and {@link ENTRY_OVERHEAD_BYTES}. Call it from your own `sizeOf` to adjust rather than replace it.
 */
export function defaultSizeOf(value: CacheValue<unknown>, key: CacheKey): number {
  return estimateSize(value.data) + key.canonical.length * 2 + ENTRY_OVERHEAD_BYTES;
}
