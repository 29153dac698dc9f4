/** A strong entity tag (RFC 9110 8.8.3) for a version string that changes with every change of the representation. */
export const strongEtag = (version: string) => `"${version}"`;

export interface EntityTagCondition {
  /** `*`: any current representation. */
  any: boolean;
  /** The versions named by the strong tags of the header. */
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
