/** Reading sdi.usage_log as daily statistics (the admin API's GET /admin/usage). */
import type { Pool } from '../db/pool.js';

export const USAGE_SERVICES: readonly string[] = ['wfs', 'ogcapi', 'wms', 'wmts', 'tiles', 'csw', 'records', 'download'];

export interface UsageQuery {
  /** First and last day (UTC, inclusive), YYYY-MM-DD. */
  from: string;
  to: string;
  service?: string;
  layer?: string;
  principal?: string;
}

export interface UsageRow {
  day: string;
  service: string;
  layer: string | null;
  principal: string | null;
  requests: number;
  errors: number;
  features: number;
  bytes: number;
}

export async function readUsage(pool: Pool, q: UsageQuery): Promise<UsageRow[]> {
  const { rows } = await pool.query<{ day: string; service: string; layer: string | null; principal: string | null; requests: string; errors: string; features: string; bytes: string }>(
    // A request of several layers counts once for each of them; its features go to each layer as read
    // (detail.layerFeatures) or, when not known per layer (downloads), shared evenly, as its bytes are: summed
    // over layers, features and bytes are the real totals, not multiplied by the number of layers.
    `SELECT to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, u.service, l.layer, u.principal,
            count(*) AS requests,
            count(*) FILTER (WHERE (u.detail->>'status')::int >= 400) AS errors,
            COALESCE(sum(CASE WHEN l.layer IS NULL OR l.n = 1 THEN u.features
                              WHEN u.detail ? 'layerFeatures' THEN COALESCE((u.detail->'layerFeatures'->>l.layer)::bigint, 0)
                              ELSE round(u.features::numeric / l.n) END), 0) AS features,
            COALESCE(sum(round(u.bytes::numeric / COALESCE(l.n, 1))), 0) AS bytes
       FROM sdi.usage_log u
       LEFT JOIN LATERAL (SELECT x.layer, count(*) OVER () AS n FROM unnest(string_to_array(u.layer, ',')) AS x(layer)) AS l ON true
      WHERE u.at >= ($1::date)::timestamp AT TIME ZONE 'UTC' AND u.at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
        AND ($3::text IS NULL OR u.service = $3) AND ($4::text IS NULL OR l.layer = $4) AND ($5::text IS NULL OR u.principal = $5)
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST`,
    [q.from, q.to, q.service ?? null, q.layer ?? null, q.principal ?? null],
  );
  return rows.map((r) => ({ day: r.day, service: r.service, layer: r.layer, principal: r.principal, requests: Number(r.requests), errors: Number(r.errors), features: Number(r.features), bytes: Number(r.bytes) }));
}
