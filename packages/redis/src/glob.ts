const GLOB_SPECIAL = new Set([0x2a, 0x3f, 0x5b, 0x5d, 0x5c, 0x5e]); // * ? [ ] \ ^

/** Escapes the bytes Redis' glob matching treats specially, so `SCAN MATCH` takes `prefix` literally. */
export function escapeGlob(prefix: Buffer): Buffer {
  let specials = 0;
  for (const byte of prefix) if (GLOB_SPECIAL.has(byte)) specials++;
  if (specials === 0) return prefix;
  const out = Buffer.allocUnsafe(prefix.length + specials);
  let i = 0;
  for (const byte of prefix) {
    if (GLOB_SPECIAL.has(byte)) out[i++] = 0x5c;
    out[i++] = byte;
  }
  return out;
}
