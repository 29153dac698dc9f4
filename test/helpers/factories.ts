import { randomUUID } from 'node:crypto';

let sequence = 0;

/** A unique email, so tests never collide. */
export const uniqueEmail = (prefix = 'user') => `${prefix}.${++sequence}.${randomUUID().slice(0, 8)}@example.com`;

/** A valid UserCreate body; override any field. */
export function userInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { first_name: 'John', last_name: 'Doe', age: 30, email: uniqueEmail(), ...overrides };
}
