/**
 * A parameter collector: every value coming from a request becomes `$n`, never text in the statement.
 * Identifiers only ever come from the layer catalogue (PostgreSQL's own views) and go through quoteIdent.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Add a value, returning its placeholder, optionally cast (`$3::integer`). The cast text must be trusted. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

export interface CompiledSql {
  text: string;
  values: unknown[];
}
