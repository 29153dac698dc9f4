// Spectral's OpenAPI rules for the served document (checked by test/docs/openapi-lint.test.ts; the same with
// `npx @stoplight/spectral-cli lint` on a saved copy). One deliberate exception: the seed serves its collection
// at `/users/`, with the trailing slash, and clients written against it call that URL.
import { oas } from '@stoplight/spectral-rulesets';

export default {
  extends: [[oas, 'recommended']],
  rules: { 'path-keys-no-trailing-slash': 'off' },
};
