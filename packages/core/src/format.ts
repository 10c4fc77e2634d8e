/**
 * A value format: turns a cached value's data into bytes and back. Only `data` is serialized; expire and stale
 * travel beside the bytes as metadata. Implementations throw `CacheError` with code `SERIALIZE` or `DESERIALIZE`,
 * and must reject bytes written by another format rather than return a wrong value where they can tell.
 */
export interface Format {
  /** Stable identifier, e.g. `"cbor"` or `"json"`. Two formats with the same id read each other's bytes. */
  readonly id: string;
  /** Encodes `value` as bytes. */
  serialize(value: unknown): Uint8Array;
  /** Decodes bytes produced by `serialize` of a format with the same id. */
  deserialize(bytes: Uint8Array): unknown;
}
