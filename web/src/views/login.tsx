/**
 * Credentials, entered once per browser tab: the app's code and secret and a user name (sent in
 * the X-Bkapi-Authorization header, as an API gateway client sends them), and the business to
 * look at. Kept in session storage: gone when the tab closes.
 */
import { useState } from 'preact/hooks';
import { ApiClient, type Credentials, type Scope } from '../api/client.js';

const KEY = 'pipestate.credentials';

export function savedCredentials(): Credentials | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw === null ? undefined : (JSON.parse(raw) as Credentials);
  } catch {
    return undefined;
  }
}

export const forgetCredentials = (): void => sessionStorage.removeItem(KEY);

export function Login({ onLogin }: { readonly onLogin: (c: Credentials) => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const c: Credentials = {
      appCode: String(f.get('app_code')), appSecret: String(f.get('app_secret')), username: String(f.get('username')),
      bizId: String(f.get('biz_id')), scope: String(f.get('scope')) as Scope,
    };
    // Ask once, so wrong credentials are said here and not on every view.
    const env = await new ApiClient(location.origin, c).get('get_task_list', { limit: 1 });
    if (!env.result) {
      setError(env.message);
      return;
    }
    sessionStorage.setItem(KEY, JSON.stringify(c));
    onLogin(c);
  };
  return (
    <form class="login" onSubmit={(e) => void submit(e)}>
      <h1>pipestate</h1>
      <p class="muted">The app's credentials, as for the API. They stay in this tab only.</p>
      <label>App code<input name="app_code" required autocomplete="username" /></label>
      <label>App secret<input name="app_secret" type="password" required autocomplete="current-password" /></label>
      <label>User name<input name="username" required /></label>
      <label>Business<input name="biz_id" required inputMode="numeric" pattern="[0-9]+" /></label>
      <label>Scope
        <select name="scope"><option value="cmdb_biz">CMDB business (cmdb_biz)</option><option value="project">project id (project)</option></select>
      </label>
      <button type="submit" class="primary">Open</button>
      {error && <p role="alert" class="refusal">{error}</p>}
    </form>
  );
}
