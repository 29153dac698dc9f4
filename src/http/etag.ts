import type { User } from '../users/users.schemas.js';

// A user's ETag is its updated_at in quotes. updated_at strictly increases with every change of a row
// (the database moves it at least 1 ms forward) and ids are never reused, so equal tags mean equal
// representations: a strong validator (RFC 9110 8.8.1) that the database can compare in the same
// statement as the write.

export const etagOf = (user: Pick<User, 'updated_at'>) => `"${user.updated_at}"`;

export interface EntityTagCondition {
  /** `*`: any current representation. */
  any: boolean;
  /** The updated_at values named by the strong tags of the header. */
  versions: string[];
  /** Every tag of the header, weak ones included, for If-None-Match's weak comparison. */
  tags: string[];
}

/** Parses If-Match / If-None-Match; undefined when the header is absent. */
export function parseEntityTags(header: string | string[] | undefined): EntityTagCondition | undefined {
  if (header === undefined) return undefined;
  const condition: EntityTagCondition = { any: false, versions: [], tags: [] };
  for (const part of [header].flat().join(',').split(',')) {
    const tag = part.trim();
    if (tag === '*') condition.any = true;
    const match = /^(W\/)?"([^"]*)"$/.exec(tag);
    if (!match) continue;
    condition.tags.push(match[2]!);
    if (!match[1]) condition.versions.push(match[2]!);
  }
  return condition;
}
