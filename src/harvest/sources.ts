/** Harvest sources (sdi.harvest_sources): read, create or update by (kind, url). */
import type { Db } from '../records/repository.js';
import { recordsOfSourceExist } from '../records/sql.js';
import { checkHttpUrl } from './http.js';

export const SOURCE_KINDS = ['csw', 'dcat', 'iso', 'wms', 'wfs'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceOptions {
  /** Records per GetRecords page (CSW); default 50. */
  pageSize?: number;
  /** Per-request timeout in milliseconds; default 60 s. */
  timeoutMs?: number;
  /** CSW: the typeNames / outputSchema to ask for; default gmd:MD_Metadata in ISO 19139. */
  outputSchema?: 'gmd' | 'csw';
  /** Largest number of records one run reads (guards against servers that never stop paging). */
  maxRecords?: number;
}

export interface HarvestSource {
  id: number;
  name: string;
  kind: SourceKind;
  url: string;
  /** PostgreSQL interval text ('1 day', '01:00:00'), or null (on demand only). */
  scheduleInterval: string | null;
  enabled: boolean;
  options: SourceOptions;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  modifiedWatermark: Date | null;
}

const COLUMNS = `id, name, kind, url, schedule_interval::text AS schedule_interval, enabled, options, last_run_at, last_success_at, modified_watermark`;

interface Row {
  id: number;
  name: string;
  kind: SourceKind;
  url: string;
  schedule_interval: string | null;
  enabled: boolean;
  options: SourceOptions;
  last_run_at: Date | null;
  last_success_at: Date | null;
  modified_watermark: Date | null;
}

const toSource = (r: Row): HarvestSource => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  url: r.url,
  scheduleInterval: r.schedule_interval,
  enabled: r.enabled,
  options: r.options ?? {},
  lastRunAt: r.last_run_at,
  lastSuccessAt: r.last_success_at,
  modifiedWatermark: r.modified_watermark,
});

export interface SourceInput {
  kind: SourceKind;
  url: string;
  name?: string;
  /** ISO 8601 duration (P1D, PT6H) or PostgreSQL interval text; null clears the schedule; undefined keeps it. */
  scheduleInterval?: string | null;
  enabled?: boolean;
  options?: SourceOptions;
}

/** Create the source, or update the one with the same kind and URL (only the fields given). */
export async function saveSource(db: Db, input: SourceInput): Promise<HarvestSource> {
  if (!(SOURCE_KINDS as readonly string[]).includes(input.kind)) throw new Error(`unknown source kind '${input.kind}'`);
  checkHttpUrl(input.url, 'Source URL');
  const { rows } = await db.query<Row>(
    `INSERT INTO sdi.harvest_sources AS s (kind, url, name, schedule_interval, enabled, options)
     VALUES ($1, $2, COALESCE($3, $2), $4::interval, COALESCE($5, true), COALESCE($6::jsonb, '{}'))
     ON CONFLICT (kind, url) DO UPDATE SET
       name = COALESCE($3, s.name),
       schedule_interval = CASE WHEN $7 THEN $4::interval ELSE s.schedule_interval END,
       enabled = COALESCE($5, s.enabled),
       options = COALESCE($6::jsonb, s.options)
     RETURNING ${COLUMNS}`,
    [
      input.kind,
      input.url,
      input.name ?? null,
      input.scheduleInterval ?? null,
      input.enabled ?? null,
      input.options ? JSON.stringify(input.options) : null,
      input.scheduleInterval !== undefined,
    ],
  );
  return toSource(rows[0]!);
}

export async function getSource(db: Db, id: number): Promise<HarvestSource | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sdi.harvest_sources WHERE id = $1`, [id]);
  return rows[0] ? toSource(rows[0]) : undefined;
}

export async function findSource(db: Db, kind: SourceKind, url: string): Promise<HarvestSource | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sdi.harvest_sources WHERE kind = $1 AND url = $2`, [kind, url]);
  return rows[0] ? toSource(rows[0]) : undefined;
}

/**
 * Remove a source created by a request whose first harvest failed, with its failed run(s), so that an
 * answer saying "nothing was changed" is true (issue 13 point 8). Only a source that never succeeded, holds
 * no record and has no run in progress (another request may have started one meanwhile) goes.
 */
export async function deleteFailedNewSource(db: Db, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM sdi.harvest_sources s
      WHERE s.id = $1 AND s.last_success_at IS NULL
        AND NOT ${recordsOfSourceExist('s.id')}
        AND NOT EXISTS (SELECT 1 FROM sdi.harvest_runs r WHERE r.source_id = s.id AND r.status <> 'failed')`,
    [id],
  );
  return rowCount === 1;
}

export async function listSources(db: Db): Promise<HarvestSource[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sdi.harvest_sources ORDER BY id`);
  return rows.map(toSource);
}

/** Enabled scheduled sources whose last attempt is older than their interval (or that never ran). */
export async function dueSources(db: Db): Promise<HarvestSource[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM sdi.harvest_sources
      WHERE enabled AND schedule_interval IS NOT NULL AND (last_run_at IS NULL OR last_run_at + schedule_interval <= now())
      ORDER BY last_run_at NULLS FIRST, id`,
  );
  return rows.map(toSource);
}
