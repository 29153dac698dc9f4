import { Type, type Static } from 'typebox';

// The seed's model family (UserBase, UserCreate, UserUpdate, User) as TypeBox schemas. They drive validation,
// response serialization and the OpenAPI components, so the three cannot disagree.

// Patterns run with the u flag: [\uD800-\uDFFF] then matches only lone surrogates (text that is not
// well-formed UTF-16 and would be stored as U+FFFD), never the pairs of characters outside the BMP.
export const NAME_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]+$';
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]*$';

const name = (description: string, example: string) =>
  Type.String({
    minLength: 1,
    maxLength: 100,
    // At least one character that is not whitespace (JS \s covers NBSP and the other Unicode spaces), and no
    // control characters: NUL cannot be stored by PostgreSQL, and none belongs in a name.
    pattern: NAME_PATTERN,
    description: `${description}: 1-100 characters, not blank`,
    examples: [example],
  });

const email = Type.String({
  format: 'email',
  maxLength: 254,
  description: 'A valid ASCII email address, unique case-insensitively',
  examples: ['john.doe@example.com'],
});

// `type: [integer, null]` (OpenAPI 3.1) gives one clear error for "30", 30.5 or true, where anyOf gives three.
const age = Type.Unsafe<number | null>({
  type: ['integer', 'null'],
  minimum: 0,
  maximum: 150,
  description: 'Age in years, 0-150, or null when unknown',
  examples: [30],
});

const timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-26T10:13:25.123Z'] });

export const UserBaseSchema = Type.Object(
  {
    first_name: name('First name', 'John'),
    last_name: name('Last name', 'Doe'),
    age,
    email,
  },
  { additionalProperties: false },
);

export const UserCreateSchema = Type.Object(
  {
    first_name: name('First name', 'John'),
    last_name: name('Last name', 'Doe'),
    age: Type.Optional(age),
    email,
  },
  {
    additionalProperties: false,
    description: 'The body of a create: first_name, last_name and email are required; age is optional',
    examples: [{ first_name: 'John', last_name: 'Doe', age: 30, email: 'john.doe@example.com' }],
  },
);

export const UserUpdateSchema = Type.Object(
  {
    first_name: Type.Optional(name('First name', 'Jane')),
    last_name: Type.Optional(name('Last name', 'Doe')),
    age: Type.Optional(age),
    email: Type.Optional(email),
  },
  {
    additionalProperties: false,
    description: 'A partial update: only the fields sent change; null is allowed only for age',
    examples: [{ age: 31 }],
  },
);

export const UserSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1, description: 'Server-assigned, never reused', examples: [1] }),
    first_name: name('First name', 'John'),
    last_name: name('Last name', 'Doe'),
    age,
    email,
    created_at: timestamp('When the user was created (RFC 3339, UTC)'),
    updated_at: timestamp('When the user last changed (RFC 3339, UTC)'),
  },
  { additionalProperties: false },
);

export const UserListSchema = Type.Array(Type.Unsafe<User>({ $ref: 'User#' }));

export const UserIdParamsSchema = Type.Object({
  user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The user id', examples: [1] }),
});

export const SORT_FIELDS = ['id', 'first_name', 'last_name', 'age', 'email', 'created_at', 'updated_at'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export type SortParam = SortField | `-${SortField}`;
const SORT_PARAMS: SortParam[] = SORT_FIELDS.flatMap((field) => [field, `-${field}` as const]);

export const UserListQuerySchema = Type.Object(
  {
    // Parameters with a default are optional on the wire; the query validator fills the default in.
    offset: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Rows to skip' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Page size, at most 100' })),
    // A plain enum, not a union of literals: one clear error instead of one per literal.
    sort: Type.Optional(
      Type.Unsafe<SortParam>({
        type: 'string',
        enum: SORT_PARAMS,
        default: 'id',
        description: 'Sort field; prefix with - for descending. Ties break by id in the same direction.',
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'Opaque keyset cursor from a `Link: rel="next"` URL; fast at any depth. Not combinable with offset.',
      }),
    ),
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, pattern: NO_CONTROL_CHARACTERS, description: 'Exact email, case-insensitive' }),
    ),
    first_name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: NO_CONTROL_CHARACTERS, description: 'Exact first name' }),
    ),
    last_name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: NO_CONTROL_CHARACTERS, description: 'Exact last name' }),
    ),
    min_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 150, description: 'Minimum age, inclusive' })),
    max_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 150, description: 'Maximum age, inclusive' })),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: NO_CONTROL_CHARACTERS,
        description: 'Case-insensitive substring of first name, last name or email',
      }),
    ),
    // No schema default: the default depends on q (see the description).
    count: Type.Optional(
      Type.Boolean({
        description:
          'Whether to send X-Total-Count (and the last link). Default true, except with q, where counting every ' +
          'substring match costs as much as the matches and the default is false.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type UserBase = Static<typeof UserBaseSchema>;
export type UserCreate = Static<typeof UserCreateSchema>;
export type UserUpdate = Static<typeof UserUpdateSchema>;
export type User = Static<typeof UserSchema>;
/** The list query after validation: the parameters with a default are always present. */
export type UserListQuery = Static<typeof UserListQuerySchema> &
  Required<Pick<Static<typeof UserListQuerySchema>, 'offset' | 'limit' | 'sort'>>;
export type UserIdParams = Static<typeof UserIdParamsSchema>;

export const DeletedSchema = Type.Object(
  { ok: Type.Literal(true) },
  { additionalProperties: false, examples: [{ ok: true }] },
);
