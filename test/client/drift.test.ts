import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { SCHEMA_FILE, generateSchemaText, servedDocument } from '../../clients/typescript/scripts/generate.js';

// The committed client types must be what the served document gives today: a route, status or schema changed
// without regenerating fails here, not in a user's build.

it('clients/typescript/src/schema.ts is generated from the document the server serves', async () => {
  const expected = await generateSchemaText();
  const committed = readFileSync(SCHEMA_FILE, 'utf8').replace(/\r\n/g, '\n'); // a checkout with autocrlf
  if (committed !== expected) {
    const a = committed.split('\n');
    const b = expected.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    const at = line === -1 ? a.length : line;
    assert.fail(
      'clients/typescript/src/schema.ts is out of date with GET /openapi.json: run npm run client:generate ' +
        `(first difference at line ${at + 1}:\n  committed: ${JSON.stringify(a[at])}\n  generated: ${JSON.stringify(b[at])})`,
    );
  }
});

it('generates byte-identical text from the same document', async () => {
  const document = await servedDocument();
  assert.equal(await generateSchemaText(document), await generateSchemaText(document));
});
