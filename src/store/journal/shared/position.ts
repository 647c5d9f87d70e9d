/**
 * A position in a journal that several writers share: the writing transaction's id and the
 * entry's number inside that transaction. Positions are assigned by the database, not by a
 * writer, and compare as the pair: this is the journal order every instance applies in.
 *
 * Clients never see positions: the cursor they see is the change's `seq`, which every instance
 * assigns alike as it applies the journal in this order (see follower.ts).
 */
export interface Position {
  /** the transaction id (PostgreSQL xid8: 64 bits, hence a bigint) */
  readonly xid: bigint;
  /** the entry's number inside its transaction, from 0 */
  readonly n: number;
}

/** Before every entry. */
export const ORIGIN: Position = Object.freeze({ xid: 0n, n: -1 });

export function comparePositions(a: Position, b: Position): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.n - b.n;
}

export const atOrAfter = (a: Position, b: Position): boolean => comparePositions(a, b) >= 0;

export const positionText = (p: Position): string => `${p.xid}.${p.n}`;
