/** Number of hash slots of a Redis Cluster. */
export const SLOTS = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}

/** The cluster slot of a key, as Redis computes it: CRC16 of the key, or of its `{hash tag}` when it has one. */
export function slotOf(key: Uint8Array): number {
  const open = key.indexOf(0x7b);
  if (open !== -1) {
    const close = key.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) % SLOTS;
  }
  return crc16(key, 0, key.length) % SLOTS;
}

let tags: string[] | undefined;

/**
 * A short hash tag whose slot is `slot`: a lock key written `prefix{tag}entry-key` sits in the same slot as the
 * entry, so one script can check the lock and write the entry on a cluster. The table of all 16384 tags is built
 * once, on first use (a few milliseconds).
 */
export function tagForSlot(slot: number): string {
  if (tags === undefined) {
    const found: string[] = new Array(SLOTS);
    let left = SLOTS;
    for (let n = 0; left > 0; n++) {
      const tag = n.toString(36);
      const slotOfTag = crc16(Buffer.from(tag, 'latin1'), 0, tag.length) % SLOTS;
      if (found[slotOfTag] === undefined) {
        found[slotOfTag] = tag;
        left--;
      }
    }
    tags = found;
  }
  return tags[slot] as string;
}
