/**
 * The repository stands alone: the README and docs/ link only to files a clone has, and nothing
 * points outside it (the design sources the docs were written from are not part of a clone).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('documentation links', () => {
  it('the contract, the design notes and the parity notes exist, and the README links them', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const doc of ['docs/contract.md', 'docs/design.md', 'docs/bk-sops-parity.md']) {
      expect(existsSync(join(ROOT, doc)), doc).toBe(true);
      expect(readme, doc).toContain(`](${doc})`);
    }
  });

  it.each(DOCS)('%s links only to files in the repository', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    expect(text).not.toMatch(/\.\.\/shared/);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^(https?:|mailto:|#)/.test(t));
    for (const target of targets) {
      const file = join(ROOT, dirname(doc), target.split('#')[0]);
      expect(file.startsWith(ROOT), `${doc} → ${target} leaves the repository`).toBe(true);
      expect(existsSync(file), `${doc} → ${target}`).toBe(true);
    }
  });
});
