/**
 * The operations the page offers, from the lifecycle's own table (src/lifecycle/offers.ts),
 * computed at build time and bundled as data: the page never carries the state machine itself.
 */
import type { OffersTable } from '../../../src/lifecycle/offer-key.js';

declare const __PIPESTATE_OFFERS__: OffersTable;

export const OFFERS: OffersTable = __PIPESTATE_OFFERS__;
