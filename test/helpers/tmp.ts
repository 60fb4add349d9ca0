// Temporary directories for tests.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'musketeers-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
