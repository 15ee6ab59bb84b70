/**
 * Import settings, read from the environment by loadConfig (config.import) like every other setting: how many superseded versions of a layer are kept for rollback
 * (SDI_IMPORT_KEEP_VERSIONS, default 3; 0 keeps none), the largest upload or download accepted
 * (SDI_IMPORT_MAX_BYTES, default 2 GiB; also the bound of what a zip unpacks to), and how long a swap waits for
 * readers of the published table (SDI_IMPORT_LOCK_TIMEOUT_MS, default 30 s; past it the import fails and the
 * layer stays as it was), and how long a resumable upload is kept, unfinished or not yet imported
 * (SDI_IMPORT_UPLOAD_EXPIRY_HOURS, default 24; the download janitor removes it then).
 */
export interface ImportSettings {
  keepVersions: number;
  maxBytes: number;
  lockTimeoutMs: number;
  uploadExpiryHours: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new Error(`${name} must be an integer of at least ${min}, got '${v}'`);
  return Number(v);
}

export function importSettings(env: NodeJS.ProcessEnv): ImportSettings {
  return {
    keepVersions: int(env, 'SDI_IMPORT_KEEP_VERSIONS', 3, 0),
    maxBytes: int(env, 'SDI_IMPORT_MAX_BYTES', 2 * 1024 ** 3, 1024),
    lockTimeoutMs: int(env, 'SDI_IMPORT_LOCK_TIMEOUT_MS', 30_000, 1),
    uploadExpiryHours: int(env, 'SDI_IMPORT_UPLOAD_EXPIRY_HOURS', 24, 1),
  };
}
