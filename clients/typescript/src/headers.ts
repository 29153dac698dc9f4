/**
 * The links of an RFC 8288 Link header by relation: `</users/?limit=3&cursor=…>; rel="next"` gives
 * `{ next: '/users/?limit=3&cursor=…' }`. The server percent-encodes its URLs, so a comma never appears inside one.
 */
export function parseLinks(header: string | null | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  for (const match of (header ?? '').matchAll(/<([^>]*)>([^,]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(match[2] ?? '');
    const names = (rel?.[1] ?? rel?.[2] ?? '').split(/\s+/).filter(Boolean);
    for (const name of names) links[name.toLowerCase()] ??= match[1] ?? '';
  }
  return links;
}

/** X-Total-Count as a number; undefined when the server did not send it (`count=false`). */
export function totalCount(response: Response): number | undefined {
  const value = response.headers.get('x-total-count');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * The query of the `next` link, or undefined on the last page. Only the query is kept: the path is always the
 * collection, and a client whose baseUrl has a prefix (behind a proxy) keeps it.
 */
export function nextQuery(response: Response): Record<string, string> | undefined {
  const next = parseLinks(response.headers.get('link'))['next'];
  if (next === undefined) return undefined;
  return Object.fromEntries(new URL(next, 'http://link.invalid').searchParams);
}
