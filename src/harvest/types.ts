/** What every source kind produces: pages of items, each a metadata document (or why there is none). */
import type { HarvestSource } from './sources.js';
import type { OutboundPolicy } from '../net/outbound.js';

export interface HarvestItem {
  /** The record's id at the source (fileIdentifier, dct:identifier, the URL…); '#n' when it has none. */
  remoteId: string;
  /** An ISO 19139 or Dublin Core document that src/metadata can store. */
  document?: string;
  /** Why this item cannot be harvested (reported as failed; the run goes on). */
  error?: string;
}

export interface HarvestContext {
  /** Incremental runs only: ask the remote for records modified at or after this instant. */
  modifiedSince?: string;
  timeoutMs: number;
  /** Destinations the harvest may reach: every fetch goes through src/net/outbound.ts with it. */
  policy: OutboundPolicy;
  log: (msg: string) => void;
}

/** A source kind: yields the items page by page; throws (HarvestError) when the source cannot be read. */
export type Harvester = (source: HarvestSource, ctx: HarvestContext) => AsyncGenerator<HarvestItem[]>;
