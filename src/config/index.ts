/**
 * Platform configuration: defaults, then an optional JSON file (SDI_CONFIG, validated against
 * schemas/config.schema.json), then environment variables. Read once at start.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { projectPath } from '../paths.js';
import { oidcSettings, type OidcSettings } from './oidc.js';
import { importSettings, type ImportSettings } from './import.js';

export type { ImportSettings } from './import.js';

export interface ServiceDescription {
  title: string;
  abstract: string;
  keywords: string[];
  providerName: string;
  providerSite: string;
  contactEmail: string;
  fees: string;
  accessConstraints: string;
}

export interface FeatureLimits {
  maxFeatures: number;
  statementTimeoutMs: number;
  maxStartIndex: number;
  oapiLimitDefault: number;
  oapiLimitMax: number;
  offeredCrs: number[];
}

export interface AdminUnitTable {
  /** schema.table of the reference table (a published layer or not). */
  table: string;
  codeColumn: string;
  nameColumn: string;
  geometryColumn: string;
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
}

export interface DownloadSettings {
  /** Extracts up to these sizes are served directly; above, they become deferred jobs. */
  directMaxFeatures: number;
  directMaxBytes: number;
  /** Hard limits of any extract (direct or deferred). */
  maxFeatures: number;
  maxBytes: number;
  /** Rasters: pixels (width × height × bands) served directly / at most. */
  rasterDirectMaxPixels: number;
  rasterMaxPixels: number;
  /** Where extracts are built and deferred results kept. */
  workDir: string;
  /** Lifetime of a deferred result and its signed link, in days (geOrchestra's default: 10). */
  resultTtlDays: number;
  /** HMAC secret of result links; unset: a random one is generated once and kept in the database. */
  linkSecret?: string;
  /** Job workers run inside the serving process (0 = only separate `cli.js download-worker` processes). */
  workers: number;
  /** Quotas of deferred jobs (issue 13 point 7): unfinished (queued + running) jobs per client (the
   *  authenticated principal, else the client address) and of everyone together; over them, 429. */
  jobsPerClient: number;
  jobsTotal: number;
  /** How often idle job workers look for work when no NOTIFY came (SDI_JOB_POLL_MS). */
  jobPollMs: number;
  /** Janitor pass interval (SDI_DOWNLOAD_JANITOR_MS). */
  janitorIntervalMs: number;
  /** Age after which a pre-defined Atom file is rebuilt although its layer did not change (SDI_PREDEFINED_MAX_AGE_MS). */
  predefinedMaxAgeMs: number;
  smtp?: SmtpSettings;
  /**
   * An extract by administrative unit leaves out polygon features with less than this share of their area inside
   * the unit (SDI_DOWNLOAD_ADMIN_MIN_SHARE, 0 = keep every intersecting feature). Reference tables of different
   * origins never share boundaries exactly: the communes of département 45 are 326, but 26 neighbours overlap it by
   * 40 m² to 2.9 ha (at most 0.12 % of their area). 1 % keeps every commune of the unit and none of its neighbours,
   * at every level of the demo data (test/download/extract-admin-units.test.ts).
   */
  adminMinShare: number;
  adminUnits: Record<'commune' | 'epci' | 'departement' | 'region', AdminUnitTable>;
}

/**
 * The HTTP server's own limits (issue 13, point 12): how long a client may take to send its headers and its
 * request, how long an idle keep-alive or silent connection is kept, how many connections at once, and CORS.
 */
export interface HttpSettings {
  /** Whole header block received within this time, else 408 and the connection closed (slowloris). */
  headersTimeoutMs: number;
  /** Whole request (headers and body) received within this time. Node applies it to receiving only: a long streamed response is not cut. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (a client that stopped reading); 0 = never. Must exceed the longest silent processing (statement timeout, direct extract building, synchronous Harvest). */
  idleTimeoutMs: number;
  /** Connections above this number are refused at once (0 = no cap). */
  maxConnections: number;
  /** Request line + headers, in bytes (Node's maxHeaderSize): above, 414 (long URL) or 431. */
  maxHeaderBytes: number;
  /** Origins allowed by CORS: ['*'] (any, without credentials), a list of exact origins, or [] (CORS off). */
  corsOrigins: string[];
  /** Access-Control-Allow-Credentials for the listed origins (never with '*'). */
  corsCredentials: boolean;
}

/**
 * Rate limits (issue 11, src/server/rate-limit.ts): requests per window per client address and per signed-in
 * principal, and failed sign-ins per login and per address (over them, every credential of that login or address
 * is refused with 429 until its window ends). 0 turns a limit off.
 */
export interface RateLimitSettings {
  /** SDI_RATE_LIMIT_IP: requests per window from one client address. */
  perIp: number;
  /** SDI_RATE_LIMIT_PRINCIPAL: requests per window of one signed-in login or token owner. */
  perPrincipal: number;
  /**
   * SDI_RATE_LIMIT_TOKEN: requests per window of one API token (its id), within its owner's SDI_RATE_LIMIT_PRINCIPAL:
   * a script's token cannot take all of its login's budget. 0 (the default): tokens share their login's only.
   */
  perToken: number;
  /** SDI_RATE_LIMIT_WINDOW_MS. */
  windowMs: number;
  /** SDI_RATE_LIMIT_SIGNIN_LOGIN / SDI_RATE_LIMIT_SIGNIN_IP: failed sign-ins per window, per login / per address. */
  signInPerLogin: number;
  signInPerIp: number;
  /** SDI_RATE_LIMIT_SIGNIN_WINDOW_MS: the window of failed sign-ins, which is also the longest lockout. */
  signInWindowMs: number;
  /** SDI_RATE_LIMIT_EXEMPT: networks (CIDR) exempt from the request limits and the per-address sign-in limit. */
  exempt: string[];
}

/** How long statistics and the audit log are kept (days; 0 = for ever), and how often the purge runs. */
export interface RetentionSettings {
  /** SDI_USAGE_RETENTION_DAYS. */
  usageDays: number;
  /** SDI_AUDIT_RETENTION_DAYS. */
  auditDays: number;
  /** SDI_PURGE_INTERVAL_MS. */
  purgeIntervalMs: number;
}

export interface CatalogueSettings {
  /** Largest page of CSW GetRecords and DCAT (SDI_CSW_MAX_RECORDS); a larger maxRecords gets a page this size. */
  maxRecords: number;
  /** The count and resume caches of GetRecords paging (SDI_CSW_PAGE_CACHE=0 turns them off, for measurements). */
  pageCache: boolean;
  /** Scheduled harvests run in this process (SDI_HARVEST=0: none), every tickMs (SDI_HARVEST_TICK_MS, at least 1 s). */
  harvest: boolean;
  harvestTickMs: number;
  /** Records of restricted resources (SDI_CATALOGUE_RESTRICTED, issue 11): hidden from callers who may not view the
   *  resource (hide, the default), or listed to everyone without their data links (describe; src/access/record-links.ts). */
  restricted: 'hide' | 'describe';
  /**
   * What the CSW offers (SDI_CSW_PROFILE, issue 12): 'dc' a Dublin Core catalogue (csw:Record only: no ISO type
   * name, output schema or queryable advertised or accepted), 'iso' CSW ISO AP 1.0, 'inspire' ISO AP plus the
   * INSPIRE discovery service (extended capabilities, additional queryables). Default inspire.
   */
  profile: CswProfile;
}

export type CswProfile = 'dc' | 'iso' | 'inspire';
export const CSW_PROFILES: readonly CswProfile[] = ['dc', 'iso', 'inspire'];

export interface Config {
  port: number;
  host: string;
  /**
   * Serving processes sharing the port (node:cluster; SDI_PROCESSES, default 1): rendering and encoding run on
   * one thread per process, so a map service on 2 cores needs 2 to use them (MapServer runs as 2 FastCGI
   * processes in the bench). Background work runs in the first process only.
   */
  processes: number;
  baseUrl?: string;
  databaseUrl: string;
  /** application_name of the pool's sessions (pg_stat_activity), so an operator can tell processes apart. */
  databaseApplicationName: string;
  logLevel: string;
  demo: boolean;
  namespace: { prefix: string; uri: string };
  service: ServiceDescription;
  features: FeatureLimits;
  /** Shared secret of the administrator (CSW Transaction, Harvest): Bearer token, or the HTTP Basic password. Unset: refused. */
  adminToken?: string;
  /** The access policy (SDI_ACCESS_POLICY): public (every published resource to everyone), deny-all (a lockdown),
   *  grants (users, groups and grants, issue 11), or auto (the default: grants once a user exists, else public). */
  accessPolicy: 'public' | 'deny-all' | 'grants' | 'auto';
  /** The first administrator, created at start when absent (SDI_ADMIN_LOGIN / SDI_ADMIN_PASSWORD). */
  firstAdmin?: { login: string; password: string };
  /** OpenID Connect sign-in for the admin API (SDI_OIDC_*, src/config/oidc.ts); undefined: off. */
  oidc?: OidcSettings;
  download: DownloadSettings;
  catalogue: CatalogueSettings;
  /** WMS limits: pixels (SDI_WMS_MAX_WIDTH / SDI_WMS_MAX_HEIGHT, advertised as MaxWidth / MaxHeight) and layers per GetMap (SDI_WMS_LAYER_LIMIT). */
  maps: {
    maxWidth: number;
    maxHeight: number;
    layerLimit: number;
    /** Directory of the tile cache shared by the deployment's processes (SDI_TILE_CACHE_DIR; '' = no cache). */
    tileCacheDir: string | null;
    /** Size limit of the tile cache in MB (SDI_TILE_CACHE_MAX_MB; 0 = none): src/tiles/cache-trim.ts keeps it under. */
    tileCacheMaxMb: number;
    /** How often the maps service trims the tile cache (SDI_TILE_CACHE_TRIM_MS, default 10 minutes). */
    tileCacheTrimMs: number;
    /**
     * Layers of at least this many features (estimated) get small-scale overviews from the job workers' start sweep
     * (SDI_OVERVIEW_MIN_FEATURES, default 100,000: smaller layers read their table fast enough at any scale;
     * src/publishing/overview-job.ts).
     */
    overviewMinFeatures: number;
  };
  /** Outbound HTTP (webhooks, harvests): networks (CIDR) or host names allowed although private/loopback (SDI_OUTBOUND_ALLOW). */
  outboundAllow: string[];
  /** Reverse proxies (CIDR) whose Forwarded / X-Forwarded-* headers are believed (SDI_TRUSTED_PROXIES); default none. */
  trustedProxies: string[];
  http: HttpSettings;
  rateLimit: RateLimitSettings;
  retention: RetentionSettings;
  /** Imports (SDI_IMPORT_*, src/config/import.ts): versions kept, size limit, swap lock timeout, upload expiry. */
  import: ImportSettings;
  /** The services this process serves (SDI_SERVICES, comma-separated names); unset: all of them. */
  services?: string[];
}

/** The French list: Lambert-93, CC 42–50, WGS 84, Web Mercator, RGF93 geographic, ETRS89, LAEA, overseas UTMs. */
export const FRENCH_CRS = [
  2154, 3942, 3943, 3944, 3945, 3946, 3947, 3948, 3949, 3950, 4326, 3857, 4171, 4258, 3035,
  // Overseas: Antilles (RGAF09 UTM 20N, WGS 84 UTM 20N), Guyane (RGFG95 UTM 22N), Réunion (RGR92 UTM 40S),
  // Mayotte (RGM04 UTM 38S), Saint-Pierre-et-Miquelon (RGSPM06 UTM 21N)
  5490, 32620, 2972, 2975, 4471, 4467,
];


function defaults(): Config {
  return {
    port: 8080,
    host: '127.0.0.1',
    processes: 1,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/sdi',
    databaseApplicationName: 'sdi',
    accessPolicy: 'auto',
    logLevel: 'info',
    demo: true,
    outboundAllow: [],
    trustedProxies: [],
    http: {
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 120_000,
      // Above the 60 s idle timeout of the usual reverse proxies and load balancers (nginx, AWS ALB), so that
      // they, not we, close an idle upstream connection (else a request may race our close and fail).
      keepAliveTimeoutMs: 72_000,
      idleTimeoutMs: 600_000,
      maxConnections: 1024,
      maxHeaderBytes: 32 * 1024,
      corsOrigins: ['*'],
      corsCredentials: false,
    },
    // Per minute: a QGIS map of WMTS tiles is some tens of requests, a whole office behind one NAT address many users.
    rateLimit: { perIp: 3000, perPrincipal: 3000, perToken: 0, windowMs: 60_000, signInPerLogin: 10, signInPerIp: 50, signInWindowMs: 15 * 60_000, exempt: ['127.0.0.0/8', '::1/128'] },
    // Usage statistics for 13 months (a year compared with the previous one); the audit log a year (CNIL's
    // recommendation for access logs is 6 months to a year).
    retention: { usageDays: 400, auditDays: 365, purgeIntervalMs: 3_600_000 },
    import: importSettings({}),
    namespace: { prefix: 'sdi', uri: 'https://sdi.example.org/features' },
    service: {
      title: 'Plateforme régionale de données géographiques',
      abstract: 'Services OGC de la plateforme : données de référence du territoire (limites administratives, communes, EPCI…).',
      keywords: ['WFS', 'OGC API Features', 'INSPIRE', 'Centre-Val de Loire'],
      providerName: 'Plateforme régionale',
      // The platform's identity comes from configuration (SDI_PROVIDER_*, SDI_CONTACT_EMAIL, or the file): no
      // placeholder address is served. Unset, the site and the e-mail address are left out where they are
      // optional (OWS ServiceProvider, OpenAPI contact) and the records name the public base URL as the site.
      providerSite: '',
      contactEmail: '',
      fees: 'NONE',
      accessConstraints: 'NONE',
    },
    features: {
      maxFeatures: 1_000_000,
      statementTimeoutMs: 60_000,
      maxStartIndex: 100_000_000,
      oapiLimitDefault: 10,
      oapiLimitMax: 10_000,
      offeredCrs: FRENCH_CRS,
    },
    catalogue: { maxRecords: 1000, pageCache: true, harvest: true, harvestTickMs: 60_000, profile: 'inspire', restricted: 'hide' },
    maps: { maxWidth: 4096, maxHeight: 4096, layerLimit: 50, tileCacheDir: '', tileCacheMaxMb: 0, tileCacheTrimMs: 600_000, overviewMinFeatures: 100_000 },
    download: {
      directMaxFeatures: 100_000,
      directMaxBytes: 200 * 1024 * 1024,
      maxFeatures: 5_000_000,
      maxBytes: 4 * 1024 * 1024 * 1024,
      rasterDirectMaxPixels: 25_000_000,
      rasterMaxPixels: 1_000_000_000,
      // Set after the database is known (defaultDownloadDir): one directory per database, outside the checkout.
      workDir: '',
      resultTtlDays: 10,
      workers: 1,
      jobsPerClient: 5,
      jobsTotal: 200,
      jobPollMs: 2000,
      janitorIntervalMs: 600_000,
      predefinedMaxAgeMs: 24 * 3600_000,
      adminMinShare: 0.01,
      adminUnits: {
        commune: { table: 'data.communes', codeColumn: 'code', nameColumn: 'nom', geometryColumn: 'geom' },
        epci: { table: 'data.epci', codeColumn: 'siren', nameColumn: 'nom', geometryColumn: 'geom' },
        departement: { table: 'data.departements', codeColumn: 'code', nameColumn: 'nom', geometryColumn: 'geom' },
        region: { table: 'data.region', codeColumn: 'code', nameColumn: 'nom', geometryColumn: 'geom' },
      },
    },
  };
}

const schemaPath = () => projectPath('schemas', 'config.schema.json');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cfg = defaults();
  if (env.SDI_CONFIG) {
    const file = JSON.parse(readFileSync(env.SDI_CONFIG, 'utf8')) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    if (!validate(file)) {
      const msg = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new Error(`Invalid configuration file ${env.SDI_CONFIG}: ${msg}`);
    }
    mergeInto(cfg as unknown as Record<string, unknown>, file);
  }
  if (env.PORT) cfg.port = Number(env.PORT);
  if (env.HOST) cfg.host = env.HOST;
  if (env.SDI_PROCESSES) {
    const n = env.SDI_PROCESSES === 'auto' ? availableParallelism() : Number(env.SDI_PROCESSES);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`SDI_PROCESSES must be 'auto' or an integer from 1 to 64, not '${env.SDI_PROCESSES}'`);
    cfg.processes = n;
  }
  if (env.BASE_URL) cfg.baseUrl = env.BASE_URL;
  if (env.DATABASE_URL) cfg.databaseUrl = env.DATABASE_URL;
  // It also names GDAL's sessions (<name>-extract-<uuid>, inside a libpq connection string, at most the 63
  // characters PostgreSQL keeps): letters, digits, '.', '_' and '-', 18 at most.
  if (env.SDI_DB_APPLICATION_NAME) {
    if (!/^[A-Za-z0-9._-]{1,18}$/.test(env.SDI_DB_APPLICATION_NAME)) throw new Error('SDI_DB_APPLICATION_NAME: 1 to 18 letters, digits, ".", "_" or "-"');
    cfg.databaseApplicationName = env.SDI_DB_APPLICATION_NAME;
  }
  if (env.SDI_ACCESS_POLICY) {
    if (!['public', 'deny-all', 'grants', 'auto'].includes(env.SDI_ACCESS_POLICY)) throw new Error('SDI_ACCESS_POLICY: public, deny-all, grants or auto');
    cfg.accessPolicy = env.SDI_ACCESS_POLICY as Config['accessPolicy'];
  }
  if (env.LOG_LEVEL) cfg.logLevel = env.LOG_LEVEL;
  // The platform's identity (issue 10): who publishes, where, and how to reach them.
  if (env.SDI_PROVIDER_NAME) cfg.service.providerName = env.SDI_PROVIDER_NAME;
  if (env.SDI_PROVIDER_SITE) cfg.service.providerSite = env.SDI_PROVIDER_SITE;
  if (env.SDI_CONTACT_EMAIL) cfg.service.contactEmail = env.SDI_CONTACT_EMAIL;
  if (env.SDI_SERVICE_TITLE) cfg.service.title = env.SDI_SERVICE_TITLE;
  if (env.SDI_NAMESPACE_URI) cfg.namespace.uri = env.SDI_NAMESPACE_URI;
  if (env.SDI_NAMESPACE_PREFIX) cfg.namespace.prefix = env.SDI_NAMESPACE_PREFIX;
  if (cfg.service.contactEmail && !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(cfg.service.contactEmail)) throw new Error(`SDI_CONTACT_EMAIL: '${cfg.service.contactEmail}' is not an e-mail address`);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(cfg.namespace.prefix)) throw new Error(`SDI_NAMESPACE_PREFIX: '${cfg.namespace.prefix}' is not an XML name prefix`);
  if (env.SDI_DEMO !== undefined) cfg.demo = env.SDI_DEMO !== '0' && env.SDI_DEMO !== 'false';
  if (env.SDI_MAX_FEATURES) cfg.features.maxFeatures = Number(env.SDI_MAX_FEATURES);
  if (env.SDI_STATEMENT_TIMEOUT_MS) cfg.features.statementTimeoutMs = Number(env.SDI_STATEMENT_TIMEOUT_MS);
  if (env.SDI_ADMIN_TOKEN) cfg.adminToken = env.SDI_ADMIN_TOKEN;
  if (env.SDI_ADMIN_LOGIN || env.SDI_ADMIN_PASSWORD) {
    if (!env.SDI_ADMIN_LOGIN || !env.SDI_ADMIN_PASSWORD) throw new Error('SDI_ADMIN_LOGIN and SDI_ADMIN_PASSWORD go together');
    if (env.SDI_ADMIN_PASSWORD.length < 12) throw new Error('SDI_ADMIN_PASSWORD: at least 12 characters');
    cfg.firstAdmin = { login: env.SDI_ADMIN_LOGIN, password: env.SDI_ADMIN_PASSWORD };
  }
  cfg.oidc = oidcSettings(env);
  cfg.import = importSettings(env);
  const d = cfg.download;
  if (env.SDI_DOWNLOAD_DIR) d.workDir = env.SDI_DOWNLOAD_DIR;
  if (env.SDI_DOWNLOAD_DIRECT_MAX_FEATURES) d.directMaxFeatures = Number(env.SDI_DOWNLOAD_DIRECT_MAX_FEATURES);
  if (env.SDI_DOWNLOAD_MAX_FEATURES) d.maxFeatures = Number(env.SDI_DOWNLOAD_MAX_FEATURES);
  if (env.SDI_DOWNLOAD_RASTER_DIRECT_MAX_PIXELS) d.rasterDirectMaxPixels = Number(env.SDI_DOWNLOAD_RASTER_DIRECT_MAX_PIXELS);
  if (env.SDI_DOWNLOAD_RASTER_MAX_PIXELS) d.rasterMaxPixels = Number(env.SDI_DOWNLOAD_RASTER_MAX_PIXELS);
  if (env.SDI_DOWNLOAD_WORKERS) d.workers = Number(env.SDI_DOWNLOAD_WORKERS);
  if (env.SDI_DOWNLOAD_SECRET) d.linkSecret = env.SDI_DOWNLOAD_SECRET;
  if (env.SDI_DOWNLOAD_TTL_DAYS) d.resultTtlDays = Number(env.SDI_DOWNLOAD_TTL_DAYS);
  if (env.SDI_DOWNLOAD_JOBS_PER_CLIENT) d.jobsPerClient = Number(env.SDI_DOWNLOAD_JOBS_PER_CLIENT);
  if (env.SDI_DOWNLOAD_JOBS_TOTAL) d.jobsTotal = Number(env.SDI_DOWNLOAD_JOBS_TOTAL);
  if (env.SDI_DOWNLOAD_ADMIN_MIN_SHARE) d.adminMinShare = Number(env.SDI_DOWNLOAD_ADMIN_MIN_SHARE);
  for (const [name, v] of [['SDI_DOWNLOAD_JOBS_PER_CLIENT', d.jobsPerClient], ['SDI_DOWNLOAD_JOBS_TOTAL', d.jobsTotal]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a whole number of jobs, at least 1`);
  }
  const positive = (name: string, min: number): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new Error(`${name} must be an integer of at least ${min}, got '${v}'`);
    return Number(v);
  };
  d.jobPollMs = positive('SDI_JOB_POLL_MS', 50) ?? d.jobPollMs;
  d.janitorIntervalMs = positive('SDI_DOWNLOAD_JANITOR_MS', 100) ?? d.janitorIntervalMs;
  d.predefinedMaxAgeMs = positive('SDI_PREDEFINED_MAX_AGE_MS', 0) ?? d.predefinedMaxAgeMs;
  const c = cfg.catalogue;
  c.maxRecords = positive('SDI_CSW_MAX_RECORDS', 1) ?? c.maxRecords;
  c.harvestTickMs = positive('SDI_HARVEST_TICK_MS', 1000) ?? c.harvestTickMs;
  cfg.maps.maxWidth = positive('SDI_WMS_MAX_WIDTH', 1) ?? cfg.maps.maxWidth;
  cfg.maps.maxHeight = positive('SDI_WMS_MAX_HEIGHT', 1) ?? cfg.maps.maxHeight;
  cfg.maps.layerLimit = positive('SDI_WMS_LAYER_LIMIT', 1) ?? cfg.maps.layerLimit;
  if (env.SDI_TILE_CACHE_DIR !== undefined) cfg.maps.tileCacheDir = env.SDI_TILE_CACHE_DIR.trim() || null;
  cfg.maps.tileCacheMaxMb = positive('SDI_TILE_CACHE_MAX_MB', 0) ?? cfg.maps.tileCacheMaxMb;
  cfg.maps.tileCacheTrimMs = positive('SDI_TILE_CACHE_TRIM_MS', 1000) ?? cfg.maps.tileCacheTrimMs;
  cfg.maps.overviewMinFeatures = positive('SDI_OVERVIEW_MIN_FEATURES', 0) ?? cfg.maps.overviewMinFeatures;
  if (env.SDI_CSW_PAGE_CACHE !== undefined) c.pageCache = env.SDI_CSW_PAGE_CACHE !== '0';
  if (env.SDI_CATALOGUE_RESTRICTED) {
    if (env.SDI_CATALOGUE_RESTRICTED !== 'hide' && env.SDI_CATALOGUE_RESTRICTED !== 'describe') throw new Error('SDI_CATALOGUE_RESTRICTED: hide or describe');
    c.restricted = env.SDI_CATALOGUE_RESTRICTED;
  }
  if (env.SDI_HARVEST !== undefined) c.harvest = env.SDI_HARVEST !== '0';
  if (env.SDI_CSW_PROFILE !== undefined && env.SDI_CSW_PROFILE.trim() !== '') {
    const p = env.SDI_CSW_PROFILE.trim().toLowerCase();
    if (!(CSW_PROFILES as readonly string[]).includes(p)) throw new Error(`SDI_CSW_PROFILE must be one of ${CSW_PROFILES.join(', ')}, got '${env.SDI_CSW_PROFILE}'`);
    c.profile = p as CswProfile;
  }
  if (env.SDI_SMTP_HOST) {
    d.smtp = {
      host: env.SDI_SMTP_HOST,
      port: Number(env.SDI_SMTP_PORT ?? 25),
      secure: env.SDI_SMTP_SECURE === '1' || env.SDI_SMTP_SECURE === 'true',
      user: env.SDI_SMTP_USER,
      password: env.SDI_SMTP_PASSWORD,
      from: env.SDI_SMTP_FROM ?? (cfg.service.contactEmail || 'sdi@localhost'),
    };
  }
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  if (env.SDI_OUTBOUND_ALLOW !== undefined) cfg.outboundAllow = list(env.SDI_OUTBOUND_ALLOW);
  if (env.SDI_TRUSTED_PROXIES !== undefined) cfg.trustedProxies = list(env.SDI_TRUSTED_PROXIES);
  if (env.SDI_SERVICES !== undefined) cfg.services = list(env.SDI_SERVICES);
  const h = cfg.http;
  const int = (name: string, min: number): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new Error(`${name} must be an integer of at least ${min}, got '${v}'`);
    return Number(v);
  };
  h.headersTimeoutMs = int('SDI_HEADERS_TIMEOUT_MS', 100) ?? h.headersTimeoutMs;
  h.requestTimeoutMs = int('SDI_REQUEST_TIMEOUT_MS', 0) ?? h.requestTimeoutMs;
  h.keepAliveTimeoutMs = int('SDI_KEEP_ALIVE_TIMEOUT_MS', 1) ?? h.keepAliveTimeoutMs;
  h.idleTimeoutMs = int('SDI_IDLE_TIMEOUT_MS', 0) ?? h.idleTimeoutMs;
  h.maxConnections = int('SDI_MAX_CONNECTIONS', 0) ?? h.maxConnections;
  h.maxHeaderBytes = int('SDI_MAX_HEADER_BYTES', 1024) ?? h.maxHeaderBytes;
  if (env.SDI_CORS_ORIGINS !== undefined) h.corsOrigins = env.SDI_CORS_ORIGINS.trim().toLowerCase() === 'none' ? [] : list(env.SDI_CORS_ORIGINS);
  if (env.SDI_CORS_CREDENTIALS !== undefined) h.corsCredentials = env.SDI_CORS_CREDENTIALS === '1' || env.SDI_CORS_CREDENTIALS === 'true';
  checkHttp(h);
  const rl = cfg.rateLimit;
  rl.perIp = int('SDI_RATE_LIMIT_IP', 0) ?? rl.perIp;
  rl.perPrincipal = int('SDI_RATE_LIMIT_PRINCIPAL', 0) ?? rl.perPrincipal;
  rl.perToken = int('SDI_RATE_LIMIT_TOKEN', 0) ?? rl.perToken;
  rl.windowMs = int('SDI_RATE_LIMIT_WINDOW_MS', 100) ?? rl.windowMs;
  rl.signInPerLogin = int('SDI_RATE_LIMIT_SIGNIN_LOGIN', 0) ?? rl.signInPerLogin;
  rl.signInPerIp = int('SDI_RATE_LIMIT_SIGNIN_IP', 0) ?? rl.signInPerIp;
  rl.signInWindowMs = int('SDI_RATE_LIMIT_SIGNIN_WINDOW_MS', 100) ?? rl.signInWindowMs;
  if (env.SDI_RATE_LIMIT_EXEMPT !== undefined) rl.exempt = list(env.SDI_RATE_LIMIT_EXEMPT);
  const rt = cfg.retention;
  rt.usageDays = int('SDI_USAGE_RETENTION_DAYS', 0) ?? rt.usageDays;
  rt.auditDays = int('SDI_AUDIT_RETENTION_DAYS', 0) ?? rt.auditDays;
  rt.purgeIntervalMs = int('SDI_PURGE_INTERVAL_MS', 1000) ?? rt.purgeIntervalMs;
  if (!d.workDir) d.workDir = defaultDownloadDir(cfg.databaseUrl, env);
  // The tile cache likewise: one per database (a tile is keyed by its layer's revision in that database only).
  if (cfg.maps.tileCacheDir === '') cfg.maps.tileCacheDir = join(stateDir(env), 'sdi', 'tiles', databaseKey(cfg.databaseUrl));
  if (cfg.baseUrl) cfg.baseUrl = cfg.baseUrl.replace(/\/+$/, '');
  // Only an absolute http(s) URL is a public base URL (vitest, like Vite, puts BASE_URL=/ in the environment).
  if (cfg.baseUrl !== undefined && !/^https?:\/\/[^/]/i.test(cfg.baseUrl)) delete cfg.baseUrl;
  return cfg;
}

/** Each service's entry point of its own (app/<name>-server.ts): the variable naming its port, and its default port. */
const ALONE_PORTS = { features: ['FEATURES_PORT', 8081], catalogue: ['CATALOGUE_PORT', 8082], download: ['DOWNLOAD_PORT', 8083], maps: ['MAPS_PORT', 8084] } as const;

/**
 * Serve one service alone: SDI_SERVICES is that service and PORT its own port (<NAME>_PORT, else PORT, else its
 * default), written into the environment before loadConfig reads it, so that the serving processes a cluster
 * forks (which inherit the environment) serve the same. Here rather than in app/: settings are read in src/config only.
 */
export function serveAlone(service: keyof typeof ALONE_PORTS, env: NodeJS.ProcessEnv = process.env): void {
  const [variable, port] = ALONE_PORTS[service];
  env.SDI_SERVICES = service;
  env.PORT = env[variable] ?? env.PORT ?? String(port);
}

/**
 * The default download directory: under the user's state directory ($XDG_STATE_HOME, else ~/.local/state), one
 * per database (host, port, name), so that two deployments on one machine never share it and a clean checkout
 * holds no results (issue 12). A directory is also stamped with its database at first use (src/download/work-dir.ts).
 */
export function defaultDownloadDir(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'sdi', 'downloads', databaseKey(databaseUrl));
}

const stateDir = (env: NodeJS.ProcessEnv) => env.XDG_STATE_HOME || join(homedir(), '.local', 'state');

/**
 * `<host>-<port>-<database>` of a connection URL, safe as a directory name; a libpq keyword string (`host=… dbname=…`)
 * gets `conn-` and a digest of it, so that two deployments configured that way do not share one directory either.
 */
function databaseKey(databaseUrl: string): string {
  let key: string;
  try {
    const u = new URL(databaseUrl);
    key = `${u.hostname || 'local'}-${u.port || '5432'}-${decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres'}`;
  } catch {
    key = `conn-${createHash('sha256').update(databaseUrl.trim()).digest('hex').slice(0, 16)}`;
  }
  return key.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Settings Node would refuse, or that would make CORS unsafe, fail at start with a clear message. */
function checkHttp(h: HttpSettings): void {
  if (h.requestTimeoutMs > 0 && h.headersTimeoutMs > h.requestTimeoutMs) throw new Error(`The headers timeout (${h.headersTimeoutMs} ms) cannot exceed the request timeout (${h.requestTimeoutMs} ms)`);
  if (h.corsOrigins.includes('*') && h.corsOrigins.length > 1) throw new Error("CORS origins: '*' cannot be combined with a list of origins");
  if (h.corsOrigins.includes('*') && h.corsCredentials) throw new Error("CORS: credentials cannot be allowed for every origin ('*'); list the origins (SDI_CORS_ORIGINS)");
  for (const o of h.corsOrigins) if (o !== '*' && !/^https?:\/\/[^/\s]+$/i.test(o)) throw new Error(`CORS origin '${o}' is not an origin (scheme://host[:port], no path)`);
}

function mergeInto(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    const t = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      mergeInto(t as Record<string, unknown>, v as Record<string, unknown>);
    } else target[k] = v;
  }
}
