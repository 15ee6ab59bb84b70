/**
 * Parameter binding without rewriting SQL: the compiler asks a binder for each value's placeholder, and the
 * binder decides how the statement will get the value. Two ways:
 *  - PositionalBinder: `$n` placeholders for node-postgres (values sent with the statement);
 *  - ParamsRowBinder: for statements GDAL runs itself (no bound parameters through its PostgreSQL driver),
 *    each value is a typed scalar sub-select of one download_work.params row, found by a server-made uuid.
 *    A scalar sub-select is an InitPlan: evaluated once per statement (the cast too, e.g. a polygon decoded
 *    once), usable in index conditions, and a constant for PostGIS's prepared-geometry cache.
 * No regular expression ever goes over SQL text; no request value is ever part of it.
 */
export interface SqlBinder {
  /** Values in binding order (sent with the statement, or stored in the params row). */
  readonly values: unknown[];
  /** Add a value, returning the SQL expression that yields it, optionally cast. The cast text must be trusted. */
  add(value: unknown, cast?: string): string;
}

export class PositionalBinder implements SqlBinder {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Casts the compiler writes: type names, possibly of two words, possibly arrays. Anything else is a bug. */
const TRUSTED_CAST = /^[a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*)?(\[\])?$/;

export class ParamsRowBinder implements SqlBinder {
  readonly values: unknown[] = [];

  /** `id` is the uuid of the download_work.params row (made by the server, never by the request). */
  constructor(readonly id: string) {
    if (!UUID.test(id)) throw new Error('ParamsRowBinder needs a server-made uuid');
  }

  add(value: unknown, cast?: string): string {
    if (cast !== undefined && !TRUSTED_CAST.test(cast)) throw new Error(`untrusted cast ${cast}`);
    const k = this.values.length;
    // JSON cannot hold undefined: store null, as node-postgres would bind it.
    this.values.push(value === undefined ? null : value);
    const raw = Array.isArray(value) ? `ARRAY(SELECT jsonb_array_elements_text(p.v->${k}))` : `(p.v->>${k})`;
    // The cast sits inside the sub-select, so it is evaluated once, not on every row.
    return `(SELECT ${raw}${cast ? `::${cast}` : ''} FROM download_work.params p WHERE p.id = '${this.id}')`;
  }

  /** The jsonb text to store in download_work.params.v (insert it with a bound parameter). */
  json(): string {
    return JSON.stringify(this.values);
  }
}
