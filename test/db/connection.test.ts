import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openSqlite } from '../../src/db/sqlite.js';

describe('openSqlite: the connection settings', () => {
  let directory: string;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-connection-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  const pragmasOf = (settings: Parameters<typeof openSqlite>[1], name: string) => {
    const sqlite = openSqlite(join(directory, name), settings);
    try {
      return {
        journalMode: sqlite.pragma('journal_mode', { simple: true }),
        synchronous: sqlite.pragma('synchronous', { simple: true }),
        // Negative: KiB.
        cacheSize: sqlite.pragma('cache_size', { simple: true }),
      };
    } finally {
      sqlite.close();
    }
  };

  it('opens with the server’s defaults: WAL, synchronous NORMAL (1), a page cache of 4 MB', () => {
    assert.deepEqual(pragmasOf(loadConfig({}), 'defaults.db'), { journalMode: 'wal', synchronous: 1, cacheSize: -4096 });
  });

  it('sizes the page cache in MB as SQLITE_CACHE_SIZE_MB says, and syncs as SQLITE_SYNCHRONOUS says', () => {
    const config = loadConfig({ SQLITE_CACHE_SIZE_MB: '64', SQLITE_SYNCHRONOUS: 'FULL' });
    assert.deepEqual(pragmasOf(config, 'configured.db'), { journalMode: 'wal', synchronous: 2, cacheSize: -65536 });
  });
});
