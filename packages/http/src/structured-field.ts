import type { Directives } from './cache-control.js';

/** A bare item of a Structured Field (RFC 8941), as far as cache directives need it. */
type Bare =
  | { type: 'integer' | 'decimal'; value: number }
  | { type: 'string' | 'token' | 'binary'; value: string }
  | { type: 'boolean'; value: boolean };

class Parser {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  sp(): void {
    while (this.s[this.i] === ' ') this.i++;
  }
  ows(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }
  key(): string | undefined {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(this.s.slice(this.i));
    if (m === null) return undefined;
    this.i += m[0].length;
    return m[0];
  }
  bare(): Bare | undefined {
    const rest = this.s.slice(this.i);
    const c = rest[0];
    if (c === undefined) return undefined;
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d{1,15}(\.\d{1,3})?/.exec(rest);
      if (m === null) return undefined;
      if (m[1] !== undefined && m[0].replace('-', '').indexOf('.') > 12) return undefined;
      this.i += m[0].length;
      return { type: m[1] === undefined ? 'integer' : 'decimal', value: Number(m[0]) };
    }
    if (c === '"') {
      let out = '';
      let j = 1;
      for (; j < rest.length; j++) {
        const ch = rest[j] as string;
        if (ch === '\\') {
          const next = rest[j + 1];
          if (next !== '"' && next !== '\\') return undefined;
          out += next;
          j++;
          continue;
        }
        if (ch === '"') {
          this.i += j + 1;
          return { type: 'string', value: out };
        }
        const code = ch.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) return undefined;
        out += ch;
      }
      return undefined;
    }
    if (c === ':') {
      const m = /^:([A-Za-z0-9+/=]*):/.exec(rest);
      if (m === null) return undefined;
      this.i += m[0].length;
      return { type: 'binary', value: m[1] as string };
    }
    if (c === '?') {
      if (rest[1] !== '0' && rest[1] !== '1') return undefined;
      this.i += 2;
      return { type: 'boolean', value: rest[1] === '1' };
    }
    const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(rest);
    if (m === null) return undefined;
    this.i += m[0].length;
    return { type: 'token', value: m[0] };
  }
  params(): boolean {
    while (this.peek() === ';') {
      this.i++;
      this.sp();
      if (this.key() === undefined) return false;
      if (this.peek() === '=') {
        this.i++;
        if (this.bare() === undefined) return false;
      }
    }
    return true;
  }
  item(): Bare | undefined {
    const value = this.bare();
    if (value === undefined || !this.params()) return undefined;
    return value;
  }
  innerList(): boolean {
    this.i++; // (
    for (;;) {
      this.sp();
      if (this.peek() === ')') {
        this.i++;
        return this.params();
      }
      if (this.item() === undefined) return false;
      const c = this.peek();
      if (c !== ' ' && c !== ')') return false;
    }
  }
}

/** Directives whose value must be a non-negative integer (RFC 9213 section 2.1). */
const INTEGER = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);
/** Directives that take no value (a Boolean true in a Structured Field). */
const FLAG = new Set([
  'no-store',
  'no-cache',
  'private',
  'public',
  'must-revalidate',
  'proxy-revalidate',
  'must-understand',
  'immutable',
]);

/**
 * Parses a targeted cache-control field (`CDN-Cache-Control`, RFC 9213) as the Structured Field Dictionary it
 * is; `undefined` when it is not a valid one, or a known directive has the wrong type (`max-age="10"`), so the
 * cache falls back to `Cache-Control` as RFC 9213 requires.
 */
export function parseTargetedField(lines: readonly string[]): Directives | undefined {
  const p = new Parser(lines.join(', ').replace(/^ +| +$/g, ''));
  const map = new Map<string, string | true>();
  if (p.s === '') return undefined;
  for (;;) {
    const key = p.key();
    if (key === undefined) return undefined;
    let value: string | true = true;
    if (p.peek() === '=') {
      p.i++;
      if (p.peek() === '(') {
        if (!p.innerList()) return undefined;
        value = '';
      } else {
        const item = p.item();
        if (item === undefined) return undefined;
        if (INTEGER.has(key) && (item.type !== 'integer' || (item.value as number) < 0)) return undefined;
        if (FLAG.has(key) && !(item.type === 'boolean' && item.value === true)) return undefined;
        value = item.type === 'boolean' ? true : String(item.value);
      }
    } else {
      if (!p.params()) return undefined;
      if (INTEGER.has(key)) return undefined;
    }
    map.set(key, value);
    p.ows();
    if (p.i >= p.s.length) break;
    if (p.peek() !== ',') return undefined;
    p.i++;
    p.ows();
    if (p.i >= p.s.length) return undefined;
  }
  return { map, duplicates: new Set() };
}
