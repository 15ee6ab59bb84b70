/**
 * Every value coming from a request goes through a binder (src/db/binder.ts), never as text in the statement.
 * Identifiers only ever come from the layer catalogue (PostgreSQL's own views) and go through quoteIdent.
 */
export type { SqlBinder as SqlParams } from './binder.js';
export { PositionalBinder } from './binder.js';

export interface CompiledSql {
  text: string;
  values: unknown[];
  /** The layer whose features the statement reads, when it reads one (usage statistics count its rows per layer). */
  layer?: string;
}
