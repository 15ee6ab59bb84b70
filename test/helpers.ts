/** Shared helpers for integration tests: HTTP, database, XML schema validation with xmllint. */
import { request as httpRequest } from 'node:http';
import { inject } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const baseUrl = () => inject('baseUrl');
export const wfsUrl = (query: string) => `${inject('baseUrl')}/wfs?${query}`;

export const ROOT = resolve(import.meta.dirname, '..');
export const SHARED = process.env.SHARED_DIR ?? resolve(ROOT, '..', 'shared');
export const SCHEMAS = join(SHARED, 'schemas-ogc-local');

export async function get(url: string, init?: RequestInit): Promise<{ status: number; type: string; body: string; headers: Headers }> {
  const r = await fetch(url, init);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text(), headers: r.headers };
}

export async function postXml(url: string, xml: string): Promise<{ status: number; type: string; body: string }> {
  return get(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });
}

let pool: pg.Pool | undefined;
export function db(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  return pool;
}

/** Row counts of every table of the data and sdi schemas: proves a bad request changed nothing. */
export async function storeFingerprint(): Promise<Record<string, number>> {
  const { rows } = await db().query<{ t: string }>(
    // sdi.usage_log records every request (issue 11 statistics) and sdi.audit_log every refusal and failed
    // sign-in: they grow with the probing itself, they are not data.
    `SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS t FROM pg_stat_user_tables WHERE schemaname IN ('data', 'sdi') AND NOT (schemaname = 'sdi' AND relname IN ('usage_log', 'audit_log')) ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const r of rows) out[r.t] = Number((await db().query(`SELECT count(*) AS n FROM ${r.t}`)).rows[0].n);
  return out;
}

/**
 * Validate an XML document with xmllint against a local official schema (no network). For feature
 * collections, pass the application schema too: a wrapper schema imports both.
 */
export function xmllint(xml: string, schemaRelPath: string, extraImports: Array<{ ns: string; xsd: string }> = []): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-xsd-'));
  const doc = join(dir, 'doc.xml');
  writeFileSync(doc, xml);
  let schema = join(SCHEMAS, schemaRelPath);
  if (extraImports.length) {
    const wrapper = join(dir, 'wrapper.xsd');
    const imports = [{ ns: '', xsd: schema }, ...extraImports]
      .map((i) => `<xs:import ${i.ns ? `namespace="${i.ns}" ` : ''}schemaLocation="${i.xsd}"/>`)
      .join('');
    // The first import needs its namespace: read it from the schema itself.
    const tns = /targetNamespace="([^"]+)"/.exec(readFileSync(schema, 'utf8'))![1];
    writeFileSync(wrapper, `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">${imports.replace('<xs:import schemaLocation', `<xs:import namespace="${tns}" schemaLocation`)}</xs:schema>`);
    schema = wrapper;
  }
  const r = spawnSync('xmllint', ['--nonet', '--noout', '--schema', schema, doc], { encoding: 'utf8' });
  return { ok: r.status === 0, output: (r.stderr + r.stdout).slice(0, 4000) };
}

/** Save an application schema (DescribeFeatureType) with its GML import pointed at the local copy. */
export function localApplicationSchema(xsd: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-app-'));
  const file = join(dir, 'app.xsd');
  writeFileSync(
    file,
    xsd
      .replace('http://schemas.opengis.net/gml/3.2.1/gml.xsd', join(SCHEMAS, 'gml/3.2.1/gml.xsd'))
      .replace('http://schemas.opengis.net/gml/3.1.1/base/gml.xsd', join(SCHEMAS, 'gml/3.1.1/base/gml.xsd')),
  );
  return file;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
}

export { existsSync };

/** Send the headers of a `total`-byte body and its first `head` bytes, then wait for an answer without sending more. */
export function answerBeforeBody(url: string, head: string, total: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'content-type': 'application/xml', 'content-length': String(total), ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sentBytes: Buffer.byteLength(head) });
      });
    });
    req.on('error', reject);
    req.write(head);
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer before the body was complete'));
    }, 20_000);
    req.on('close', () => clearTimeout(timer));
  });
}
