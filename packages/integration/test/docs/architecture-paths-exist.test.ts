// ARCHITECTURE.md is a map: a path in it that no longer exists sends the next engineer nowhere.
// Every repository path it quotes (in backticks) must name a file or folder that is really there.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const map = readFileSync(`${root}ARCHITECTURE.md`, 'utf8');
const REPOSITORY_PATH = /`((?:packages|examples|bench|scripts)\/[\w./-]*)`/g;
const quoted = [...new Set([...map.matchAll(REPOSITORY_PATH)].map((match) => match[1]!))];

describe('ARCHITECTURE.md', () => {
  it('quotes the files of the notification path, the ports and the behaviour table', () => {
    // A guard on the extraction itself: a map with few paths means the pattern stopped matching.
    expect(quoted.length).toBeGreaterThan(60);
    expect(quoted).toContain('packages/core/src/webhooks/receive.ts');
    expect(quoted).toContain('packages/core/src/engine/commit.ts');
  });

  it('names only paths that exist, folders as folders', () => {
    const missing = quoted.filter((path) => !existsSync(`${root}${path}`));
    expect(missing).toEqual([]);
    const notFolders = quoted.filter((path) => path.endsWith('/') && !statSync(`${root}${path}`).isDirectory());
    expect(notFolders).toEqual([]);
  });
});
