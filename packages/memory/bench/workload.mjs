// Request traces for the benchmarks: seeded, so every run and every policy sees the same sequence.

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` key indices in [0, universe) drawn from a Zipf distribution with exponent `alpha` (rank 0 hottest). */
export function zipfTrace(universe, alpha, length, seed) {
  const cdf = new Float64Array(universe);
  let sum = 0;
  for (let rank = 0; rank < universe; rank++) {
    sum += 1 / (rank + 1) ** alpha;
    cdf[rank] = sum;
  }
  // Ranks are mapped to shuffled key indices, so hot keys are not also the first keys inserted.
  const next = random(seed);
  const keyOfRank = Int32Array.from({ length: universe }, (_, i) => i);
  for (let i = universe - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [keyOfRank[i], keyOfRank[j]] = [keyOfRank[j], keyOfRank[i]];
  }
  const trace = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const target = next() * sum;
    let lo = 0;
    let hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    trace[i] = keyOfRank[lo];
  }
  return trace;
}

/**
 * A Zipf trace interrupted every `every` requests by a sequential scan of `scanLength` keys never requested
 * otherwise (a batch job or a crawler walking the catalogue).
 */
export function zipfWithScans(universe, alpha, length, seed, every, scanLength) {
  const base = zipfTrace(universe, alpha, length, seed);
  const trace = new Int32Array(length);
  let scanKey = universe;
  let j = 0;
  for (let i = 0; i < length; ) {
    for (let n = 0; n < every && i < length; n++) trace[i++] = base[j++];
    for (let s = 0; s < scanLength && i < length; s++) trace[i++] = scanKey++;
  }
  return { trace, keys: scanKey };
}
