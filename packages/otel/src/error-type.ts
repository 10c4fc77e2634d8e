/**
 * The `error.type` attribute of a failure: the error's string `code` (a `CacheError` code such as
 * `LOADER_TIMEOUT`), else its `name`, else `_OTHER`. Never the message, which may carry a key or a value.
 */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}
