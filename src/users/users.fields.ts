import { Type, type TSchema } from 'typebox';

// The one declaration of a user's fields. Everything else that names them is computed from `userFields`:
// the TypeBox schemas and the OpenAPI document (users.schemas.ts), the list query, the SQL column lists,
// the JSON page expression, filters, sorts and cursors of both dialects (users.repository.ts and
// users.sql.*.ts), and the field lists of the tests, the fuzzer and the bench seed.

/** How a list filters by a field. Each kind has one SQL builder per dialect (users.sql.*.ts). */
export type FilterSpec =
  /** `?<field>=value`: the whole value, same case. */
  | 'exact'
  /** `?<field>=value`: the whole value, case-insensitive (ASCII, as SQLite's lower()). */
  | 'caseless'
  /**
   * `?<min>=&<max>=`: inclusive bounds on the sort expression (a missing value never matches a bound).
   * `counted`: a trigger-kept histogram `users_<field>_count` answers the total of this filter alone.
   */
  | { kind: 'range'; min: string; max: string; counted?: boolean };

export interface FieldSpec {
  /** The value's type and rules: validation, serialization and OpenAPI all read this one schema. */
  readonly schema: TSchema;
  /** A short lower-case name for descriptions ("first name"). */
  readonly label: string;
  /** Sent by the client on create; absent: set by the server. */
  readonly create?: 'required' | 'optional';
  /** Changeable by PATCH. */
  readonly patch?: boolean;
  /** Sortable with `?sort=<field>`: the SQL expression it orders by, the same on both dialects. */
  readonly sort?: string;
  readonly filter?: FilterSpec;
  /** Part of `?q=`, the case-insensitive substring search. */
  readonly search?: boolean;
  /** Unique, compared case-insensitively (a duplicate is 409). */
  readonly unique?: 'caseless';
  /** What a 422 says when a value does not match the schema's `pattern` (a regex means nothing to a client). */
  readonly patternMessage?: string;
}

// Patterns are written in the portable subset of regular expressions (no look-around, `\x` escapes, no
// surrogates), so that every generator's validator, with or without JavaScript's u flag, RE2 included, agrees
// with the server. What that subset cannot say is checked by two keywords of the server's validator
// (src/http/validation.ts) and said in words in the description: TEXT_RULES.
/** No control characters (NUL cannot be stored by PostgreSQL); at least one character. */
export const NAME_PATTERN = '^[^\\x00-\\x1F\\x7F]+$';
/** No control characters. */
export const NO_CONTROL_CHARACTERS = '^[^\\x00-\\x1F\\x7F]*$';

/**
 * Rules of text that no portable pattern can express, as schema keywords (OpenAPI extensions, so generators
 * ignore them and the description says them in words). Lone surrogates are text that is not well-formed
 * UTF-16 and would be stored as U+FFFD; blank is whitespace only, by JavaScript's \s (NBSP included).
 */
export const TEXT_RULES = {
  'x-well-formed': { message: 'must not contain lone surrogates (text that is not well-formed UTF-16)' },
  'x-not-blank': { message: 'must not be blank' },
} as const;
export type TextRule = keyof typeof TEXT_RULES;

const name = (label: string, example: string) =>
  Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: NAME_PATTERN,
    'x-not-blank': true,
    'x-well-formed': true,
    description: `${label}: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates`,
    examples: [example],
  });
const NAME_MESSAGE = 'must not contain control characters';

const timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-26T10:13:25.123Z'] });

export const userFields = {
  id: {
    schema: Type.Integer({ minimum: 1, description: 'Server-assigned, never reused', examples: [1] }),
    label: 'id',
    sort: 'id',
  },
  first_name: {
    schema: name('First name', 'John'),
    label: 'first name',
    patternMessage: NAME_MESSAGE,
    create: 'required',
    patch: true,
    sort: 'first_name',
    filter: 'exact',
    search: true,
  },
  last_name: {
    schema: name('Last name', 'Doe'),
    label: 'last name',
    patternMessage: NAME_MESSAGE,
    create: 'required',
    patch: true,
    sort: 'last_name',
    filter: 'exact',
    search: true,
  },
  // `type: [integer, null]` (OpenAPI 3.1) gives one clear error for "30", 30.5 or true, where anyOf gives three.
  age: {
    schema: Type.Unsafe<number | null>({
      type: ['integer', 'null'],
      minimum: 0,
      maximum: 150,
      description: 'Age in years, 0-150, or null when unknown',
      examples: [30],
    }),
    label: 'age',
    create: 'optional',
    patch: true,
    // Users without an age sort first ascending and last descending.
    sort: 'coalesce(age, -1)',
    filter: { kind: 'range', min: 'min_age', max: 'max_age', counted: true },
  },
  email: {
    schema: Type.String({
      format: 'email',
      maxLength: 254,
      description: 'A valid ASCII email address, unique case-insensitively',
      examples: ['john.doe@example.com'],
    }),
    label: 'email',
    create: 'required',
    patch: true,
    // Unique case-insensitively, so the sort has no ties and a cursor needs no id.
    sort: 'lower(email)',
    filter: 'caseless',
    search: true,
    unique: 'caseless',
  },
  created_at: { schema: timestamp('When the user was created (RFC 3339, UTC)'), label: 'creation time', sort: 'created_at' },
  updated_at: { schema: timestamp('When the user last changed (RFC 3339, UTC)'), label: 'last change', sort: 'updated_at' },
} as const satisfies Record<string, FieldSpec>;

export type UserFields = typeof userFields;
