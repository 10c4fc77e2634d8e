import { createHash, randomBytes } from 'node:crypto';

/** Suffix of entry files. Anything else in the directory is left alone by reads and sweeps. */
const ENTRY_SUFFIX = '.entry';
/** Suffix of files being written; renamed onto their entry file when complete. */
const TEMP_SUFFIX = '.tmp';

const ENTRY_NAME = /^[0-9a-f]{64}\.entry$/;
const TEMP_NAME = /^[0-9a-f]{64}\.[0-9a-z-]+\.tmp$/;

/**
 * The file name of the entry for an encoded key: the SHA-256 of the key bytes in hex. Key text never reaches
 * the file system, so a hostile key (`../../etc/passwd`, NUL bytes, 10 kB of text) cannot escape the directory
 * or hit a name length limit. The key bytes are stored inside the file to tell the astronomically rare
 * collision apart from a hit.
 */
export function entryFileName(keyBytes: Uint8Array): string {
  return createHash('sha256').update(keyBytes).digest('hex') + ENTRY_SUFFIX;
}

/**
 * A fresh, unique name beside `entryName` for the temporary file of one write. Unique per process and call, so
 * concurrent writers (also from other processes) never share a temporary file.
 */
export function tempFileName(entryName: string): string {
  const stem = entryName.slice(0, -ENTRY_SUFFIX.length);
  return `${stem}.${process.pid.toString(36)}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

/** True for names this backend gives entry files. */
export function isEntryFileName(name: string): boolean {
  return ENTRY_NAME.test(name);
}

/** True for names this backend gives temporary files (left behind only when a process died mid-write). */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}
