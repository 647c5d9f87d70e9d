/**
 * Who is calling, and which projects they may see. bk-sops clients authenticate as an app
 * (bk_app_code + bk_app_secret, in the parameters as for the ESB, or in an
 * X-Bkapi-Authorization JSON header as for the API gateway) acting for a user (bk_username).
 *
 * Secrets are compared in constant time: both sides are hashed to fixed-length digests first
 * (timingSafeEqual needs equal lengths, and the length of the secret must not leak either), and
 * an unknown app code is compared against a dummy digest, so timing does not say which codes exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Project } from '../../model/index.js';
import type { Params } from './body.js';
import type { AppConfig } from './config.js';
import { badAuthorizationHeader, badCredentials, usernameRequired } from './refusal.js';

export interface Caller {
  /** null when authentication is off */
  readonly app: string | null;
  readonly username: string | null;
  readonly canSee: (project: Project) => boolean;
}

export interface Authenticator {
  /** false under --no-auth */
  readonly enabled: boolean;
  /** Throws an HttpRefusal (3540100) when the caller is not who they say. */
  authenticate(params: Params, headers: IncomingHttpHeaders): Caller;
}

interface KnownApp {
  readonly digest: Buffer;
  readonly canSee: (project: Project) => boolean;
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();
const DUMMY = digest('pipestate: no such app');

const seeAll = (): boolean => true;

/** The credential fields, from the parameters first, else from the gateway header. */
function credentials(params: Params, headers: IncomingHttpHeaders): Readonly<Record<string, unknown>> {
  const header = headers['x-bkapi-authorization'];
  let fromHeader: Readonly<Record<string, unknown>> = {};
  if (typeof header === 'string' && header !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(header);
    } catch {
      throw badAuthorizationHeader();
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badAuthorizationHeader();
    fromHeader = parsed as Readonly<Record<string, unknown>>;
  }
  const pick = (key: string): unknown =>
    Object.hasOwn(params, key) ? params[key] : Object.hasOwn(fromHeader, key) ? fromHeader[key] : undefined;
  return { bk_app_code: pick('bk_app_code'), bk_app_secret: pick('bk_app_secret'), bk_username: pick('bk_username') };
}

/**
 * Do these parameters (or the gateway header) name an app? A request whose query string or header
 * does is authenticated before its body is read. Throws on a malformed header.
 */
export const namesApp = (params: Params, headers: IncomingHttpHeaders): boolean => credentials(params, headers).bk_app_code !== undefined;

export function appAuthenticator(apps: readonly AppConfig[]): Authenticator {
  const known = new Map<string, KnownApp>();
  for (const app of apps) {
    const visible = app.projects === '*' ? undefined : new Set(app.projects);
    known.set(app.bk_app_code, {
      digest: digest(app.bk_app_secret),
      canSee: visible ? (project) => visible.has(project.id) : seeAll,
    });
  }
  return {
    enabled: true,
    authenticate(params, headers) {
      const { bk_app_code: code, bk_app_secret: secret, bk_username: username } = credentials(params, headers);
      const app = typeof code === 'string' ? known.get(code) : undefined;
      const given = digest(typeof secret === 'string' ? secret : '');
      // Always compare, so a wrong code costs the same as a wrong secret.
      const match = timingSafeEqual(given, app ? app.digest : DUMMY);
      if (!app || !match || typeof secret !== 'string') throw badCredentials();
      if (typeof username !== 'string' || username.trim() === '') throw usernameRequired();
      return { app: code as string, username, canSee: app.canSee };
    },
  };
}

/** --no-auth: every caller sees every project. For local use only; the CLI says so loudly. */
export const noAuth: Authenticator = {
  enabled: false,
  authenticate(params) {
    const username = typeof params.bk_username === 'string' ? params.bk_username : null;
    return { app: null, username, canSee: seeAll };
  },
};
