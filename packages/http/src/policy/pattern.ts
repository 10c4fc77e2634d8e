/** A compiled path pattern: `/users/{id}`, `/assets/*` (the rest of the path), or a `RegExp`. */
export interface PathPattern {
  /** Named parameters of the path, or `undefined` when it does not match. */
  match(path: string): Record<string, string> | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles `/users/{id}/posts/{post}` (each `{name}` matches one non-empty segment) with an optional final `*`
 * (any rest, empty included), or takes a `RegExp` whose named groups become the parameters.
 */
export function compilePath(pattern: string | RegExp): PathPattern {
  if (pattern instanceof RegExp) {
    return {
      match(path) {
        const m = pattern.exec(path);
        if (m === null) return undefined;
        return { ...(m.groups ?? {}) };
      },
    };
  }
  const names: string[] = [];
  let source = '';
  let i = 0;
  while (i < pattern.length) {
    const open = pattern.indexOf('{', i);
    const star = pattern.indexOf('*', i);
    const next = [open, star].filter((n) => n >= 0).sort((a, b) => a - b)[0];
    if (next === undefined) {
      source += escapeRegExp(pattern.slice(i));
      break;
    }
    source += escapeRegExp(pattern.slice(i, next));
    if (next === star) {
      source += '.*';
      i = next + 1;
      continue;
    }
    const close = pattern.indexOf('}', next);
    if (close < 0) throw new TypeError(`path pattern ${pattern}: "{" without "}"`);
    names.push(pattern.slice(next + 1, close));
    source += '([^/]+)';
    i = close + 1;
  }
  const regex = new RegExp(`^${source}$`);
  return {
    match(path) {
      const m = regex.exec(path);
      if (m === null) return undefined;
      const params: Record<string, string> = {};
      names.forEach((name, index) => {
        params[name] = decodeURIComponent(m[index + 1] as string);
      });
      return params;
    },
  };
}
