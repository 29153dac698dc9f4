import { Type, type Static, type TSchema } from 'typebox';
import { NO_CONTROL_CHARACTERS, TEXT_RULES, userFields, type FieldSpec, type UserFields } from './users.fields.js';

// Everything here is computed from the declaration in users.fields.ts: the seed's model family (UserBase,
// UserCreate, UserUpdate, User), the list query, and the field groups the service and repositories use.
// `defineUserModel` takes the declaration as a parameter so that a test can derive a model with one more field.

type Key = keyof UserFields;
type ValueOf<K extends Key> = Static<UserFields[K]['schema']>;
type KeysWhere<Condition> = { [K in Key]: UserFields[K] extends Condition ? K : never }[Key];
type RequiredCreateKey = KeysWhere<{ create: 'required' }>;
type OptionalCreateKey = KeysWhere<{ create: 'optional' }>;
type PatchKey = KeysWhere<{ patch: true }>;
type SortKey = KeysWhere<{ sort: string }>;
type ExactFilterKey = KeysWhere<{ filter: 'exact' | 'caseless' }>;
type RangeFilter = Extract<UserFields[Key], { filter: { kind: 'range' } }>['filter'];

/** A user as the API returns it. */
export type User = { -readonly [K in Key]: ValueOf<K> };
/** The fields a client sets on create (the seed's UserBase). */
export type UserBase = { -readonly [K in RequiredCreateKey | OptionalCreateKey]: ValueOf<K> };
/** The body of a create. */
export type UserCreate = { -readonly [K in RequiredCreateKey]: ValueOf<K> } & {
  -readonly [K in OptionalCreateKey]?: ValueOf<K>;
};
/** The body of a partial update. */
export type UserUpdate = { -readonly [K in PatchKey]?: ValueOf<K> };
export type SortField = SortKey;
export type SortParam = SortField | `-${SortField}`;
/** The list filters, by query parameter name. */
export type UserFilters = { [K in ExactFilterKey]?: string } & { [P in RangeFilter['min'] | RangeFilter['max']]?: number } & {
  q?: string;
};
/** The list query after validation: the parameters with a default are always present. */
export type UserListQuery = UserFilters & {
  offset: number;
  limit: number;
  sort: SortParam;
  cursor?: string;
  count?: boolean;
};

/** How a field's value is stored and compared: decides SQL casts, cursor checks and timestamp rendering. */
export type ValueKind = 'text' | 'integer' | 'timestamp';

export interface FieldDefinition {
  name: string;
  spec: FieldSpec;
  kind: ValueKind;
  /** null is a valid value (and the value of a field missing from a stored response). */
  nullable: boolean;
}

/** One list filter as the repositories see it, normalised from the query parameters. */
export type FilterDefinition =
  | { kind: 'exact' | 'caseless'; field: FieldDefinition; param: string }
  | { kind: 'range'; field: FieldDefinition; min: string; max: string; bounds: [number, number]; counted: boolean };

export interface UserModel {
  /** Every field, in wire order. */
  fields: FieldDefinition[];
  /** Fields a client sends on create, in declaration order (the idempotency fingerprint's order too). */
  created: FieldDefinition[];
  patched: FieldDefinition[];
  /** Sortable fields and their SQL sort expressions. */
  sorts: Map<string, { field: FieldDefinition; expression: string }>;
  filters: FilterDefinition[];
  /** Every query parameter that filters (the filters' and q), in query order. */
  filterParams: string[];
  /** The fields `q` searches. */
  searched: FieldDefinition[];
  /** A user as the API returns it, from the fields' examples: the OpenAPI document's example. */
  example: Record<string, unknown>;
  /** What a 422 says for each pattern of the schemas, by pattern. */
  patternMessages: Record<string, string>;
  schemas: {
    UserCreate: TSchema;
    UserUpdate: TSchema;
    User: TSchema;
    UserListQuery: TSchema;
  };
}

function kindOf(schema: TSchema): ValueKind {
  const { type, format } = schema as { type?: string | string[]; format?: string };
  const types = [type].flat();
  if (types.includes('integer')) return 'integer';
  if (types.includes('string')) return format === 'date-time' ? 'timestamp' : 'text';
  throw new Error(`unsupported field type ${JSON.stringify(type)}: extend ValueKind and the dialects`);
}

const isNullable = (schema: TSchema) => [(schema as { type?: unknown }).type].flat().includes('null');

/**
 * The query schema of a filter parameter: the field's length or bounds and its pattern, without its format: a
 * value that breaks the pattern is a client error (`+` in a query string is a space: `%2B` is a plus), any
 * other value that no user can have matches nothing.
 */
function filterParamSchema(filter: FilterDefinition, bound?: 'min' | 'max'): TSchema {
  const { field } = filter;
  if (filter.kind === 'range') {
    const [minimum, maximum] = filter.bounds;
    const which = bound === 'min' ? 'Minimum' : 'Maximum';
    return Type.Integer({ minimum, maximum, description: `${which} ${field.spec.label}, inclusive` });
  }
  // Any text the field could hold, and more: a value that is not valid for the field matches nothing.
  const { maxLength = 1000, pattern = NO_CONTROL_CHARACTERS } = field.spec.schema as { maxLength?: number; pattern?: string };
  const description = `Exact ${field.spec.label}${filter.kind === 'caseless' ? ', case-insensitive' : ''}`;
  // The field's text rules too: a blank name is a client error, as in a body.
  const schema = field.spec.schema as Record<string, unknown>;
  const rules = Object.fromEntries(Object.keys(TEXT_RULES).flatMap((rule) => (rule in schema ? [[rule, schema[rule]]] : [])));
  return Type.String({ minLength: 1, maxLength, pattern, 'x-well-formed': true, ...rules, description });
}

/** Derives the model (field groups, filters, schemas) from a declaration of fields. */
export function defineUserModel(declaration: Record<string, FieldSpec>): UserModel {
  const fields: FieldDefinition[] = Object.entries(declaration).map(([name, spec]) => ({
    name,
    spec,
    kind: kindOf(spec.schema),
    nullable: isNullable(spec.schema),
  }));
  const created = fields.filter((field) => field.spec.create !== undefined);
  const patched = fields.filter((field) => field.spec.patch === true);
  const sorts = new Map(
    fields.flatMap((field) => (field.spec.sort === undefined ? [] : [[field.name, { field, expression: field.spec.sort }] as const])),
  );
  const filters: FilterDefinition[] = fields.flatMap((field): FilterDefinition[] => {
    const filter = field.spec.filter;
    if (filter === undefined) return [];
    if (typeof filter === 'string') return [{ kind: filter, field, param: field.name }];
    if (field.kind !== 'integer' || field.spec.sort === undefined) {
      throw new Error(`${field.name}: a range filter needs an integer field with a sort expression`);
    }
    const { minimum, maximum } = field.spec.schema as { minimum?: number; maximum?: number };
    if (minimum === undefined || maximum === undefined) throw new Error(`${field.name}: a range filter needs minimum and maximum`);
    return [{ kind: 'range', field, min: filter.min, max: filter.max, bounds: [minimum, maximum], counted: filter.counted === true }];
  });
  const searched = fields.filter((field) => field.spec.search === true);

  const withSchemas = (list: FieldDefinition[], optional: (field: FieldDefinition) => boolean) =>
    Object.fromEntries(list.map((field) => [field.name, optional(field) ? Type.Optional(field.spec.schema) : field.spec.schema]));
  const closed = { additionalProperties: false } as const;

  const filterProperties: Record<string, TSchema> = {};
  for (const filter of filters) {
    if (filter.kind === 'range') {
      filterProperties[filter.min] = Type.Optional(filterParamSchema(filter, 'min'));
      filterProperties[filter.max] = Type.Optional(filterParamSchema(filter, 'max'));
    } else {
      filterProperties[filter.param] = Type.Optional(filterParamSchema(filter));
    }
  }
  if (searched.length > 0) {
    const labels = searched.map((field) => field.spec.label);
    filterProperties['q'] = Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: NO_CONTROL_CHARACTERS,
        'x-well-formed': true,
        description: `Case-insensitive substring of ${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`,
      }),
    );
  }
  const sortParams = [...sorts.keys()].flatMap((field) => [field, `-${field}`]);
  const exampleOf = (field: FieldDefinition) => (field.spec.schema as { examples?: unknown[] }).examples?.[0] ?? null;
  const example = Object.fromEntries(created.map((field) => [field.name, exampleOf(field)]));
  const patchExample = patched.find((field) => field.nullable) ?? patched[0]!;
  const required = created.filter((field) => field.spec.create === 'required').map((field) => field.name);

  return {
    fields,
    created,
    patched,
    sorts,
    filters,
    filterParams: Object.keys(filterProperties),
    searched,
    example: Object.fromEntries(fields.map((field) => [field.name, exampleOf(field)])),
    patternMessages: {
      [NO_CONTROL_CHARACTERS]: 'must not contain control characters',
      ...Object.fromEntries(
        fields.flatMap(({ spec }) => {
          const { pattern } = spec.schema as { pattern?: string };
          return pattern && spec.patternMessage ? [[pattern, spec.patternMessage]] : [];
        }),
      ),
    },
    schemas: {
      UserCreate: Type.Object(withSchemas(created, (field) => field.spec.create === 'optional'), {
        ...closed,
        description: `The body of a create: ${required.join(', ')} required; the other fields optional`,
        examples: [example],
      }),
      UserUpdate: Type.Object(withSchemas(patched, () => true), {
        ...closed,
        description: 'A partial update: only the fields sent change; null only where the field allows it',
        examples: [{ [patchExample.name]: exampleOf(patchExample) }],
      }),
      User: Type.Object(withSchemas(fields, () => false), closed),
      UserListQuery: Type.Object(
        {
          // Parameters with a default are optional on the wire; the query validator fills the default in.
          offset: Type.Optional(
            Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Rows to skip' }),
          ),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Page size, at most 100' }),
          ),
          // A plain enum, not a union of literals: one clear error instead of one per literal.
          sort: Type.Optional(
            Type.Unsafe<string>({
              type: 'string',
              enum: sortParams,
              default: 'id',
              description: 'Sort field; prefix with - for descending. Ties break by id in the same direction.',
            }),
          ),
          cursor: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 512,
              pattern: '^[A-Za-z0-9_-]+$',
              description:
                'Opaque keyset cursor from a `Link: rel="next"` URL; fast at any depth. Not combinable with offset.',
            }),
          ),
          ...filterProperties,
          // No schema default: the validator would fill it in, and every Link URL would then carry count=true.
          count: Type.Optional(
            Type.Boolean({
              description:
                'Whether to send X-Total-Count (the rows matching the filters) and the last link. Default true on ' +
                'every list, q included. Send count=false to skip the count when the total is not needed: on ' +
                'PostgreSQL the total of a q that many users match costs about as much as reading those users.',
            }),
          ),
        },
        closed,
      ),
    },
  };
}

/** The users model of the service. */
export const userModel = defineUserModel(userFields);

export const UserListSchema = Type.Array(Type.Unsafe<User>({ $ref: 'User#' }));

export const UserIdParamsSchema = Type.Object({
  user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The user id', examples: [1] }),
});
export type UserIdParams = Static<typeof UserIdParamsSchema>;

export const DeletedSchema = Type.Object(
  { ok: Type.Literal(true) },
  { additionalProperties: false, examples: [{ ok: true }] },
);
