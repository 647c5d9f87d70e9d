/**
 * Projects and the task-id index. Projects only ever grow and a project never changes once
 * written, so they are shared by every snapshot: a snapshot remembers how many it may see.
 * Maps, not plain objects: an id such as "__proto__" is an ordinary key here.
 *
 * The task-id index maps the id of every live task to its registration number (its place in the
 * task vector). A deleted task leaves it, so the index holds live tasks only; a snapshot taken
 * before the deletion still finds the task through the removals recorded since it was taken.
 */
import type { Project } from '../model/index.js';

/**
 * Task ids removed from the index while no snapshot was taken: one link of a chain that runs from
 * older to newer. A snapshot keeps the link current when it was taken and looks a missing id up
 * in the links after it (every removal after a snapshot lands in a later link), so the store
 * holds only the newest link and the older ones live exactly as long as the snapshots that need
 * them.
 */
export class Removals {
  /** task id → registration number of the task removed; the first removal of an id in a link */
  readonly removed = new Map<string, number>();
  next: Removals | undefined;
  /** a snapshot holds this link: the next removal starts a new one */
  seen = false;
}

export class Registry {
  readonly projects: Project[] = [];
  readonly projectIndex = new Map<string, number>();
  readonly bizIndex = new Map<string, number>();
  /** live task id → registration number */
  readonly taskIndex = new Map<string, number>();
  /** the project's number when a snapshot that saw `count` projects may see it, else -1 */
  static visible(index: Map<string, number>, key: string, count: number): number {
    const i = index.get(key);
    return i !== undefined && i < count ? i : -1;
  }
}
