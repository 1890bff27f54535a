/**
 * Finds the route template (`/api/v1/users/:id`) that a concrete path belongs to, for requests
 * that never reached Express's router with a route of their own: a body the JSON parser refused,
 * or a request some middleware answered. A trie per method, one map lookup per path segment, so
 * it costs the same whatever the number of routes.
 *
 * Templates use Express 5 syntax. `:name` matches one non-empty segment and `*name` the rest of
 * the path; a template with optional parts (`{...}`) or several parameters in one segment is not
 * indexed (such requests are attributed through Express's own `req.route` when they are routed).
 * Static segments compare case-insensitively and a trailing slash is ignored, as Express does by
 * default. Where a static segment and a parameter both fit, the static one wins.
 */
interface Node<T> {
  statics: Map<string, Node<T>>;
  param?: Node<T>;
  /** A `*name` wildcard ending the template here. */
  rest?: T;
  value?: T;
}

const newNode = <T>(): Node<T> => ({ statics: new Map() });

/** Segments of a path: no leading or trailing slash, no empty segments between slashes kept. */
function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

export class RouteMatcher<T> {
  private readonly roots = new Map<string, Node<T>>();

  /**
   * Indexes `template` for `method` (upper case; `ALL` matches every method). Returns false when
   * the template uses syntax the matcher does not index. The first template added for a shape wins.
   */
  add(method: string, template: string, value: T): boolean {
    const segments = segmentsOf(template);
    if (segments.some((s) => /[{}()?]/.test(s) || (s.includes(':') && !/^:\w+$/.test(s)))) return false;
    let node = this.roots.get(method);
    if (!node) this.roots.set(method, (node = newNode()));
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      if (segment.startsWith('*')) {
        if (i !== segments.length - 1) return false;
        node.rest ??= value;
        return true;
      }
      if (segment.startsWith(':')) {
        node = node.param ??= newNode();
      } else {
        const key = segment.toLowerCase();
        let next = node.statics.get(key);
        if (!next) node.statics.set(key, (next = newNode()));
        node = next;
      }
    }
    node.value ??= value;
    return true;
  }

  /** The value of the template matching `method` and `path` (no query string), if any. */
  match(method: string, path: string): T | undefined {
    const segments = segmentsOf(path);
    const exact = this.roots.get(method);
    const found = exact ? walk(exact, segments, 0) : undefined;
    if (found !== undefined) return found;
    const any = this.roots.get('ALL');
    return any ? walk(any, segments, 0) : undefined;
  }
}

function walk<T>(node: Node<T>, segments: string[], i: number): T | undefined {
  if (i === segments.length) return node.value;
  const staticChild = node.statics.get(segments[i].toLowerCase());
  const viaStatic = staticChild ? walk(staticChild, segments, i + 1) : undefined;
  if (viaStatic !== undefined) return viaStatic;
  const viaParam = node.param ? walk(node.param, segments, i + 1) : undefined;
  if (viaParam !== undefined) return viaParam;
  return node.rest;
}
