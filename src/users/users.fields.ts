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

// Patterns run with the u flag: [\uD800-\uDFFF] then matches only lone surrogates (text that is not
// well-formed UTF-16 and would be stored as U+FFFD), never the pairs of characters outside the BMP.
/** Not blank (one non-whitespace character; JS \s covers NBSP), no control characters, no lone surrogates. */
export const NAME_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]+$';
/** No control characters (NUL cannot be stored by PostgreSQL) and no lone surrogates. */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]*$';

const name = (label: string, example: string) =>
  Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: NAME_PATTERN,
    description: `${label}: 1-100 characters, not blank`,
    examples: [example],
  });
const NAME_MESSAGE = 'must not be blank, nor contain control characters or lone surrogates';

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
