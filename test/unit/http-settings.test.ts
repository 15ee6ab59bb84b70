/**
 * HTTP settings and helpers of issue 13, point 12 (no server): configuration checks that must fail at start,
 * the service a URL belongs to, and the route table behind 405 / Allow.
 */
import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteTable, serviceOf, renderProblem, REQUEST_ID_PATTERN } from '../../src/server/http-errors.js';

describe('HTTP settings (issue 13 point 12)', () => {
  it('defaults: headers 15 s, request 120 s, keep-alive 72 s, 1024 connections, CORS *', () => {
    const h = loadConfig({}).http;
    expect(h).toMatchObject({ headersTimeoutMs: 15_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 72_000, maxConnections: 1024, corsOrigins: ['*'], corsCredentials: false });
  });
  it('environment: numbers, an origin list, none', () => {
    const h = loadConfig({ SDI_HEADERS_TIMEOUT_MS: '2000', SDI_REQUEST_TIMEOUT_MS: '0', SDI_MAX_CONNECTIONS: '0', SDI_CORS_ORIGINS: 'https://a.example.fr, https://b.example.fr:8443', SDI_CORS_CREDENTIALS: '1' }).http;
    expect(h).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 0, maxConnections: 0, corsOrigins: ['https://a.example.fr', 'https://b.example.fr:8443'], corsCredentials: true });
    expect(loadConfig({ SDI_CORS_ORIGINS: 'none' }).http.corsOrigins).toEqual([]);
  });
  it('the JSON file takes an http object (schemas/config.schema.json); unknown keys refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-cfg-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ http: { headersTimeoutMs: 5000, corsOrigins: ['https://carto.example.fr'], corsCredentials: true } }));
    expect(loadConfig({ SDI_CONFIG: good }).http).toMatchObject({ headersTimeoutMs: 5000, requestTimeoutMs: 120_000, corsOrigins: ['https://carto.example.fr'], corsCredentials: true });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ http: { slowlorisMs: 1 } }));
    expect(() => loadConfig({ SDI_CONFIG: bad })).toThrow(/Invalid configuration/);
  });
  it('refused at start: credentials with *, * in a list, a path as origin, headers timeout above request timeout, non-numbers', () => {
    expect(() => loadConfig({ SDI_CORS_CREDENTIALS: '1' })).toThrow(/credentials/);
    expect(() => loadConfig({ SDI_CORS_ORIGINS: '*,https://a.example.fr' })).toThrow(/combined/);
    expect(() => loadConfig({ SDI_CORS_ORIGINS: 'https://a.example.fr/app' })).toThrow(/not an origin/);
    expect(() => loadConfig({ SDI_HEADERS_TIMEOUT_MS: '20000', SDI_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/cannot exceed/);
    expect(() => loadConfig({ SDI_MAX_CONNECTIONS: 'many' })).toThrow(/integer/);
  });
});

describe('framework errors: service of a URL, route table, request ids (issue 13 point 11)', () => {
  it('the mount path decides the format', () => {
    expect(serviceOf('/wfs?x')).toBe('wfs');
    expect(serviceOf('/wfsx')).toBe('other');
    expect(serviceOf('/csw/')).toBe('csw');
    expect(serviceOf('/ogcapi/collections')).toBe('ogcapi');
    expect(serviceOf('/download/jobs/1')).toBe('download');
    expect(serviceOf('/dcat')).toBe('other');
    const v10 = renderProblem('/wfs?version=1.0.0', { status: 404, code: 'NoApplicableCode', slug: 'not-found', detail: 'x' });
    expect(v10.body).toContain('ServiceExceptionReport');
  });
  it('route table: parameters, trailing slash, the CORS wildcard ignored', () => {
    const t = new RouteTable();
    t.add('/wfs/', ['GET', 'HEAD']);
    t.add('/wfs/', 'POST');
    t.add('/download/jobs/:id', ['GET', 'DELETE']);
    t.add('*', 'OPTIONS');
    expect(t.allowed('/wfs?x=1')).toEqual(['GET', 'HEAD', 'POST']);
    expect(t.allowed('/wfs/')).toEqual(['GET', 'HEAD', 'POST']);
    expect(t.allowed('/download/jobs/abc')).toEqual(['DELETE', 'GET']);
    expect(t.allowed('/download/jobs/abc/def')).toEqual([]);
    expect(t.allowed('/nothing')).toEqual([]);
  });
  it('request id pattern', () => {
    expect(REQUEST_ID_PATTERN.test('qgis-1.2:3_x')).toBe(true);
    for (const bad of ['<script>', 'a b', '', 'x'.repeat(129), 'é']) expect(REQUEST_ID_PATTERN.test(bad)).toBe(false);
  });
});
