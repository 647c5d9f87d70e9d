/** The page: credentials first, then the task list (#/) or one task (#/task/10, #/task/10/timeline). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, type Credentials } from '../api/client.js';
import { Login, forgetCredentials, savedCredentials } from './login.js';
import { TaskList } from './task-list.js';
import { TaskView } from './task-view.js';

type Route = { readonly view: 'list' } | { readonly view: 'task'; readonly taskId: string; readonly tab: 'tree' | 'timeline' };

export function routeOf(hash: string): Route {
  const m = /^#\/task\/([0-9]{1,32})(\/timeline)?\/?$/.exec(hash);
  return m ? { view: 'task', taskId: m[1], tab: m[2] ? 'timeline' : 'tree' } : { view: 'list' };
}

export function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(savedCredentials);
  const [route, setRoute] = useState<Route>(routeOf(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const client = useMemo(() => (credentials ? new ApiClient(location.origin, credentials) : undefined), [credentials]);
  if (!credentials || !client) return <Login onLogin={setCredentials} />;
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">pipestate</a>
        <span class="muted">{credentials.scope === 'project' ? 'project' : 'business'} {credentials.bizId} · {credentials.appCode} / {credentials.username}</span>
        <button class="link" onClick={() => { forgetCredentials(); setCredentials(undefined); }}>Sign out</button>
      </header>
      <main>
        {route.view === 'list' ? <TaskList client={client} /> : <TaskView key={route.taskId} client={client} taskId={route.taskId} tab={route.tab} />}
      </main>
    </>
  );
}
