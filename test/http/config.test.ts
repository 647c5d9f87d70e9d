/** The service configuration: one JSON file, plus an app from the environment. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, appFromEnv, loadConfig, parseConfig, resolveConfig } from '../../src/api/http/config.js';

const good = {
  projects: [
    { id: '1', bk_biz_id: '2', name: 'one' },
    { id: '3', name: 'three' },
  ],
  apps: [
    { bk_app_code: 'a', bk_app_secret: 's', projects: ['1'] },
    { bk_app_code: 'b', bk_app_secret: 't' },
  ],
};

describe('parseConfig', () => {
  it('reads the service limits; absent ones are left to their defaults', () => {
    expect(parseConfig(good).limits).toBeUndefined();
    const c = parseConfig({ ...good, max_body_bytes: 2048, max_definition_bytes: 1 << 30, max_concurrent_reads: 2, max_queued_reads: 0 });
    expect(c.limits).toEqual({ max_body_bytes: 2048, max_definition_bytes: 1 << 30, max_concurrent_reads: 2, max_queued_reads: 0 });
  });

  it('reads projects and apps; an app without "projects" sees every project', () => {
    const c = parseConfig(good);
    expect(c.projects).toHaveLength(2);
    expect(c.apps).toEqual([
      { bk_app_code: 'a', bk_app_secret: 's', projects: ['1'] },
      { bk_app_code: 'b', bk_app_secret: 't', projects: '*' },
    ]);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [], /JSON object/],
    ['an unknown top-level key', { ...good, app: [] }, /unknown key "app"/],
    ['projects not an array', { projects: {} }, /projects must be an array/],
    ['an unknown project key', { projects: [{ id: '1', name: 'x', timezone: 'UTC' }] }, /projects\[0\] has an unknown key "timezone"/],
    ['an app without a secret', { apps: [{ bk_app_code: 'a' }] }, /apps\[0\]\.bk_app_secret must be a non-empty string/],
    [
      'an app naming a project that is not configured',
      { projects: good.projects, apps: [{ bk_app_code: 'a', bk_app_secret: 's', projects: ['9'] }] },
      /project "9", which is not configured/,
    ],
    [
      'an app configured twice',
      {
        apps: [
          { bk_app_code: 'a', bk_app_secret: 's' },
          { bk_app_code: 'a', bk_app_secret: 't' },
        ],
      },
      /configured twice/,
    ],
    ['projects of an app not a list', { apps: [{ bk_app_code: 'a', bk_app_secret: 's', projects: 'all' }] }, /"\*" or an array/],
    ['an unknown quota', { ...good, quotas: { default: { maxTask: 5 } } }, /invalid quotas\.default\.maxTask: is not a quota/],
    ['an unknown key of quotas', { ...good, quotas: { project: {} } }, /invalid quotas\.project: is not known/],
    [
      'a quota that is not a positive integer',
      { ...good, quotas: { projects: { 1: { maxNodes: 0 } } } },
      /invalid quotas\.projects\.1\.maxNodes: must be a positive integer/,
    ],
    [
      'quotas for a project that is not configured',
      { ...good, quotas: { projects: { 9: { maxNodes: 5 } } } },
      /quotas\.projects names project "9", which is not configured/,
    ],
    ['a body limit that is not a whole number', { max_body_bytes: '1MB' }, /max_body_bytes must be a whole number of at least 1/],
    ['a read concurrency of 0', { max_concurrent_reads: 0 }, /max_concurrent_reads must be a whole number of at least 1/],
    ['a negative read queue', { max_queued_reads: -1 }, /max_queued_reads must be a whole number of at least 0/],
  ];
  for (const [what, json, message] of bad) {
    it(`refuses ${what}, naming the source and the field`, () => {
      expect(() => parseConfig(json, 'my.json')).toThrow(ConfigError);
      expect(() => parseConfig(json, 'my.json')).toThrow(message);
      expect(() => parseConfig(json, 'my.json')).toThrow(/^my\.json: /);
    });
  }
});

describe('quotas', () => {
  it('are optional; given, they are read as the engine reads them, and kept with an app from the environment', () => {
    expect(parseConfig(good).quotas).toBeUndefined();
    const quotas = { default: { maxTasks: 100, maxExDataBytes: 1_048_576 }, projects: { 3: { maxNodes: 50_000 } } };
    expect(parseConfig({ ...good, quotas }).quotas).toEqual(quotas);
    const dir = mkdtempSync(join(tmpdir(), 'pipestate-quotas-'));
    const file = join(dir, 'q.json');
    writeFileSync(file, JSON.stringify({ ...good, quotas }));
    expect(resolveConfig(file, { PIPESTATE_APP_CODE: 'e', PIPESTATE_APP_SECRET: 'x' }).quotas).toEqual(quotas);
  });
});

describe('loadConfig and the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipestate-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify(good));

  it('names a missing or malformed file', () => {
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot be read \(ENOENT\)/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => loadConfig(broken)).toThrow(/broken\.json: is not valid JSON/);
  });

  it('PIPESTATE_CONFIG names the file when --config does not', () => {
    expect(resolveConfig(undefined, { PIPESTATE_CONFIG: file }).projects).toHaveLength(2);
    expect(resolveConfig(file, { PIPESTATE_CONFIG: join(dir, 'missing.json') }).projects).toHaveLength(2);
  });

  it('an app from PIPESTATE_APP_CODE/SECRET/PROJECTS joins the file apps, replacing one of the same code', () => {
    expect(appFromEnv({})).toBeUndefined();
    expect(appFromEnv({ PIPESTATE_APP_CODE: 'x', PIPESTATE_APP_SECRET: 'y' })).toEqual({
      bk_app_code: 'x',
      bk_app_secret: 'y',
      projects: '*',
    });
    expect(() => appFromEnv({ PIPESTATE_APP_CODE: 'x' })).toThrow(/must be set together/);
    const c = resolveConfig(file, { PIPESTATE_APP_CODE: 'a', PIPESTATE_APP_SECRET: 'env-secret', PIPESTATE_APP_PROJECTS: '1, 3' });
    expect(c.apps).toEqual([
      { bk_app_code: 'b', bk_app_secret: 't', projects: '*' },
      { bk_app_code: 'a', bk_app_secret: 'env-secret', projects: ['1', '3'] },
    ]);
    expect(() => resolveConfig(file, { PIPESTATE_APP_CODE: 'a', PIPESTATE_APP_SECRET: 's', PIPESTATE_APP_PROJECTS: '7' })).toThrow(
      /PIPESTATE_APP_PROJECTS names project "7"/,
    );
  });
});
