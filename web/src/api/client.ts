/**
 * The page's only way to the service: the public API in its ESB spelling, credentials in the
 * X-Bkapi-Authorization header (never in a URL), answers as the envelope. A refusal is returned
 * as it came, so the page can show the message exactly as the service wrote it.
 */
// The page is a client of the HTTP API: it reads answers as they arrive, and imports nothing
// from the service's request layer (which holds Node-only code).
export type Scope = 'cmdb_biz' | 'project';

export interface Credentials {
  readonly appCode: string;
  readonly appSecret: string;
  readonly username: string;
  /** the business (or project, with scope "project") the page looks at */
  readonly bizId: string;
  readonly scope: Scope;
}

/** The envelope of every answer (SPEC §3.5), as it arrives; get_task_list adds `count`, the tasks matching. */
export interface Envelope<T> {
  readonly result: boolean;
  readonly data: T | null;
  readonly code: number;
  readonly message: string;
  readonly count?: number;
}

export const ESB = '/api/c/compapi/v2/sops/';

type Params = Readonly<Record<string, string | number | boolean | undefined>>;

export class ApiClient {
  constructor(readonly base: string, readonly credentials: Credentials, private readonly fetcher: typeof fetch = (...a) => fetch(...a)) {}

  /** The gateway-style credential header. */
  headers(): Record<string, string> {
    const c = this.credentials;
    return { 'X-Bkapi-Authorization': JSON.stringify({ bk_app_code: c.appCode, bk_app_secret: c.appSecret, bk_username: c.username }) };
  }

  /** The URL of an API with the business and the given parameters in its query string. */
  url(name: string, params: Params = {}): string {
    const q = new URLSearchParams({ bk_biz_id: this.credentials.bizId, scope: this.credentials.scope });
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    return `${this.base}${ESB}${name}/?${q.toString()}`;
  }

  async get<T>(name: string, params: Params = {}, signal?: AbortSignal): Promise<Envelope<T>> {
    return this.answer<T>(await this.fetcher(this.url(name, params), { headers: this.headers(), signal }));
  }

  async post<T>(name: string, body: Readonly<Record<string, unknown>>): Promise<Envelope<T>> {
    const res = await this.fetcher(`${this.base}${ESB}${name}/`, {
      method: 'POST',
      headers: { ...this.headers(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ bk_biz_id: this.credentials.bizId, scope: this.credentials.scope, ...body }),
    });
    return this.answer<T>(res);
  }

  private async answer<T>(res: Response): Promise<Envelope<T>> {
    const text = await res.text();
    try {
      return JSON.parse(text) as Envelope<T>;
    } catch {
      return { result: false, data: null, code: res.status, message: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    }
  }
}
