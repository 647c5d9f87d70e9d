/**
 * The `url` of a task in get_tasks_status. bk-sops answers its web console's page of the task
 * (`{APP_HOST}taskflow/execute/{project_id}/?instance_id={task_id}`); pipestate has no console
 * of its own, so the address is a template the deployment configures, pointing wherever its
 * people look at a task (bk-sops' console, a dashboard, pipestate's own watch URL).
 *
 *   https://sops.example.com/taskflow/execute/{project_id}/?instance_id={task_id}
 *
 * Placeholders: {task_id}, {project_id}, {bk_biz_id} (empty for a project bound to no
 * business). Their values are digit strings, so nothing needs escaping. No template: "".
 */
import { invalid, type Project, type Task } from '../model/index.js';

export type TaskUrl = (task: Task, project: Project) => string;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const FIELDS: ReadonlyMap<string, (task: Task, project: Project) => string> = new Map([
  ['task_id', (t: Task) => t.id],
  ['project_id', (t: Task) => t.project_id],
  ['bk_biz_id', (_: Task, p: Project) => p.bk_biz_id ?? ''],
]);

/** No template configured: every task's url is "". */
export const NO_URL: TaskUrl = () => '';

/** Checks a template once, at engine creation; a bad one throws 3540000 naming `taskUrl`. */
export function compileTaskUrl(template: unknown): TaskUrl {
  if (template === undefined || template === '') return NO_URL;
  if (typeof template !== 'string') throw invalid('taskUrl', 'must be a string');
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!FIELDS.has(name)) throw invalid('taskUrl', `{${name}} is not a placeholder (known: {${[...FIELDS.keys()].join('}, {')}})`);
  }
  return (task, project) => template.replace(PLACEHOLDER, (_, name: string) => FIELDS.get(name)!(task, project));
}
