import { randomUUID } from 'node:crypto';
import { userModel, type FieldDefinition, type UserModel } from '../../src/users/users.schemas.js';

// Test data and what the tests know of the fields, all read from the declaration (src/users/users.fields.ts)
// through the model: which fields exist, their rules and bounds, and how a declared sort expression orders users.

let sequence = 0;

/** A unique email, so tests never collide. */
export const uniqueEmail = (prefix = 'user') => `${prefix}.${++sequence}.${randomUUID().slice(0, 8)}@example.com`;

/** The JSON Schema keywords of a field's schema that the tests read. */
export interface FieldRules {
  type?: string | string[];
  format?: string;
  pattern?: string;
  /** Text rules no portable pattern says (src/users/users.fields.ts TEXT_RULES). */
  'x-not-blank'?: boolean;
  'x-well-formed'?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  examples?: unknown[];
}

export const rulesOf = (field: FieldDefinition): FieldRules => field.spec.schema as FieldRules;

/** The field of that name; throws when the declaration has none. */
export function fieldNamed(name: string, model: UserModel = userModel): FieldDefinition {
  const field = model.fields.find((candidate) => candidate.name === name);
  if (!field) throw new Error(`the declaration has no field ${JSON.stringify(name)}`);
  return field;
}

/** The inclusive bounds of an integer field, as its schema declares them. */
export function boundsOf(name: string, model: UserModel = userModel): [number, number] {
  const { minimum, maximum } = rulesOf(fieldNamed(name, model));
  if (minimum === undefined || maximum === undefined) throw new Error(`${name} declares no minimum and maximum`);
  return [minimum, maximum];
}

/** The length limits of a text field (in code points), as its schema declares them. */
export function lengthOf(name: string, model: UserModel = userModel): [number, number] {
  const { minLength = 0, maxLength } = rulesOf(fieldNamed(name, model));
  if (maxLength === undefined) throw new Error(`${name} declares no maxLength`);
  return [minLength, maxLength];
}

/** A value of a unique field that no other test uses. */
function uniqueValue(field: FieldDefinition): unknown {
  if (rulesOf(field).format === 'email') return uniqueEmail();
  throw new Error(`${field.name} is unique: teach uniqueValue (test/helpers/factories.ts) how to make a fresh value of it`);
}

/** The value a valid body gives a field: its schema's first example (a fresh value for a unique field). */
function exampleOf(field: FieldDefinition): unknown {
  if (field.spec.unique !== undefined) return uniqueValue(field);
  const examples = rulesOf(field).examples;
  if (examples && examples.length > 0) return examples[0];
  if (field.nullable && field.spec.create !== 'required') return null;
  throw new Error(`${field.name} has no example in its schema: a valid body cannot be made for it`);
}

/** A valid UserCreate body: every field a client sends on create, at its example; override any field. */
export function userInput(overrides: Record<string, unknown> = {}, model: UserModel = userModel): Record<string, unknown> {
  return { ...Object.fromEntries(model.created.map((field) => [field.name, exampleOf(field)])), ...overrides };
}

// ---- How a declared sort expression orders users ----

/** SQLite's lower() and PostgreSQL's lower() under COLLATE "C" fold ASCII letters only. */
export const asciiLower = (text: string) => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

export type SortValue = string | number;
type Evaluate = (user: Readonly<Record<string, unknown>>) => SortValue | null;

/**
 * The value a user sorts by under a declared sort expression: a column (`age`), `lower(x)` (ASCII letters) and
 * `coalesce(x, <number>)`, nested as needed. Any other expression throws: the tests must be taught what it means
 * rather than guess.
 */
export function sortExpression(expression: string, model: UserModel = userModel): (user: Readonly<Record<string, unknown>>) => SortValue {
  const evaluate = compile(expression.trim(), expression, new Set(model.fields.map((field) => field.name)));
  return (user) => {
    const value = evaluate(user);
    // SQLite sorts NULL first and PostgreSQL last: a sort that meets one is not the same on both dialects.
    if (value === null) throw new Error(`the sort expression ${expression} is NULL for user ${String(user['id'])}: declare a coalesce()`);
    return value;
  };
}

function compile(text: string, whole: string, columns: ReadonlySet<string>): Evaluate {
  const call = /^([a-z_]+)\s*\(([\s\S]*)\)$/i.exec(text);
  if (call) {
    const [, name, inner] = call as unknown as [string, string, string];
    if (name.toLowerCase() === 'lower') {
      const argument = compile(inner.trim(), whole, columns);
      return (user) => {
        const value = argument(user);
        if (value !== null && typeof value !== 'string') throw new Error(`${whole}: lower() of a number`);
        return value === null ? null : asciiLower(value);
      };
    }
    const coalesce = /^([\s\S]+),\s*(-?\d+(?:\.\d+)?)$/.exec(inner.trim());
    if (name.toLowerCase() === 'coalesce' && coalesce) {
      const argument = compile(coalesce[1]!.trim(), whole, columns);
      const fallback = Number(coalesce[2]);
      return (user) => argument(user) ?? fallback;
    }
  } else if (columns.has(text)) {
    return (user) => {
      const value = user[text];
      if (value === null || typeof value === 'string' || typeof value === 'number') return value;
      throw new Error(`${whole}: ${text} of user ${String(user['id'])} is ${JSON.stringify(value)}`);
    };
  }
  throw new Error(
    `the tests do not understand the sort expression ${JSON.stringify(whole)} (at ${JSON.stringify(text)}): ` +
      'teach sortExpression (test/helpers/factories.ts) what it means',
  );
}

/** The order of two sort values as both dialects compare them: numbers by value, before text; text by its UTF-8 bytes (binary, "C"). */
export function compareSortValues(a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return typeof a === 'number' ? -1 : 1;
}

/** The sort value of each sortable field, by sort name, from its declared expression (throws at once on one it does not understand). */
export function sortValues(model: UserModel = userModel): Map<string, (user: Readonly<Record<string, unknown>>) => SortValue> {
  return new Map([...model.sorts].map(([name, { expression }]) => [name, sortExpression(expression, model)]));
}
