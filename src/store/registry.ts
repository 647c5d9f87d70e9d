/**
 * Projects and the task-id index. Both only ever grow and an entry never changes once written,
 * so they are shared by every snapshot: a snapshot remembers how many entries it may see.
 * Maps, not plain objects: an id such as "__proto__" is an ordinary key here.
 */
import type { Project } from '../model/index.js';

export class Registry {
  readonly projects: Project[] = [];
  readonly projectIndex = new Map<string, number>();
  readonly bizIndex = new Map<string, number>();
  readonly taskIndex = new Map<string, number>();
  /**
   * The highest numeric task id ever registered, deleted and archived tasks included: ids are
   * never handed out twice (DECISIONS 2). Checkpoints carry it, since they hold only live tasks.
   */
  highestTaskId = 0;

  noteTaskId(id: string): void {
    const n = Number(id);
    if (Number.isSafeInteger(n) && n > this.highestTaskId) this.highestTaskId = n;
  }

  /** the project's number when a snapshot that saw `count` projects may see it, else -1 */
  static visible(index: Map<string, number>, key: string, count: number): number {
    const i = index.get(key);
    return i !== undefined && i < count ? i : -1;
  }
}
