/**
 * Views an administrator built on a layer's table (CREATE VIEW … FROM data.t), and views on those: a replace
 * moves the table to sdi_versions by a rename, which views follow (they point at the table's oid), so they would
 * go on showing the old version, and pruning that version would fail on them. The swap therefore takes their
 * definitions (pg_get_viewdef with an empty search_path: every name schema-qualified), drops them, and re-creates
 * them, in dependency order, on the new table within its own transaction, with their owner, options, comment,
 * grants and (materialized views) indexes. A view the new table cannot carry (a column it used is gone) makes the
 * import fail whole with the view named: nothing changes.
 */
import type { PoolClient } from '../db/pool.js';
import { quoteIdent } from '../db/identifiers.js';

export interface DependentView {
  schema: string;
  name: string;
  materialized: boolean;
  definition: string;
  owner: string;
  options: string[] | null;
  comment: string | null;
  grants: Array<{ grantee: string | null; privilege: string; grantable: boolean }>;
  indexes: string[];
}

export class DependentViewError extends Error {}

const q = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** Views depending on schema.table, directly or through other views, the ones a view needs before it. */
export async function dependentViews(c: PoolClient, schema: string, table: string): Promise<DependentView[]> {
  const path = (await c.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0]!.p;
  await c.query(`SELECT set_config('search_path', '', true)`);
  try {
    const { rows } = await c.query<{
      schema: string; name: string; relkind: string; definition: string; owner: string; options: string[] | null; comment: string | null;
      grants: DependentView['grants'] | null; indexes: string[] | null;
    }>(
      `WITH RECURSIVE base AS (
         SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2
       ), deps(oid, depth) AS (
         SELECT r.ev_class, 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid, base
          WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND d.refobjid = base.oid AND r.ev_class <> base.oid
         UNION
         SELECT r.ev_class, deps.depth + 1 FROM deps JOIN pg_catalog.pg_depend d ON d.refobjid = deps.oid
           JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
          WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.ev_class <> deps.oid
       )
       SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, pg_catalog.pg_get_viewdef(c.oid) AS definition,
              pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.reloptions AS options, pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
              (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                                                 'privilege', a.privilege_type, 'grantable', a.is_grantable))
                 FROM pg_catalog.aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS grants,
              (SELECT array_agg(pg_catalog.pg_get_indexdef(i.indexrelid)) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid) AS indexes,
              max(deps.depth) AS depth
         FROM deps JOIN pg_catalog.pg_class c ON c.oid = deps.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm')
        GROUP BY c.oid, n.nspname ORDER BY max(deps.depth), n.nspname, c.relname`,
      [schema, table],
    );
    return rows.map((r) => ({
      schema: r.schema, name: r.name, materialized: r.relkind === 'm', definition: r.definition.trim().replace(/;$/, ''), owner: r.owner,
      options: r.options, comment: r.comment, grants: r.grants ?? [], indexes: r.indexes ?? [],
    }));
  } finally {
    await c.query(`SELECT set_config('search_path', $1, true)`, [path]);
  }
}

/** Drop the views (those depending on others first); no CASCADE: anything else built on them makes this fail. */
export async function dropViews(c: PoolClient, views: DependentView[]): Promise<void> {
  for (const v of [...views].reverse()) await c.query(`DROP ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${q(v.schema, v.name)}`);
}

/** Re-create the views as they were, on whatever their names now resolve to (the new table). */
export async function recreateViews(c: PoolClient, views: DependentView[]): Promise<void> {
  for (const v of views) {
    const target = q(v.schema, v.name);
    const options = v.options?.length ? ` WITH (${v.options.map((o) => o.replace(/[^A-Za-z0-9_=.-]/g, '')).join(', ')})` : '';
    await c.query('SAVEPOINT recreate_view');
    try {
      await c.query(`CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${target}${options} AS ${v.definition}`);
      await c.query('RELEASE SAVEPOINT recreate_view');
    } catch (e) {
      await c.query('ROLLBACK TO SAVEPOINT recreate_view');
      throw new DependentViewError(`The view ${v.schema}.${v.name} depends on the layer's table and does not fit the new data (${String((e as Error).message).split('\n')[0]!.slice(0, 200)}): change or drop the view, or import data it fits`);
    }
    await c.query(`ALTER ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${target} OWNER TO ${quoteIdent(v.owner)}`);
    if (v.comment !== null) await c.query(`COMMENT ON ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${target} IS ${literal(v.comment)}`);
    for (const g of v.grants) {
      if (!/^[A-Z ]+$/.test(g.privilege)) continue;
      await c.query(`GRANT ${g.privilege} ON ${target} TO ${g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
    for (const i of v.indexes) await c.query(i);
  }
}

/** A string literal for COMMENT (which takes no parameter). */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
