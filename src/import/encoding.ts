/**
 * Character encoding of the attribute data of a file: the user's `encoding=` first, then what the file says
 * (a Shapefile's `.cpg` or the language driver byte of its `.dbf`, a CSV's UTF-8 BOM), else a heuristic:
 * bytes that are valid UTF-8 are UTF-8, others Windows-1252 / Latin-1 (what French desktop GIS wrote for
 * years). Without this, GDAL passes Latin-1 bytes through and PostgreSQL stops the load at the first accent.
 * The file is read as a stream (never whole into memory), up to SCAN_BYTES.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

const SCAN_BYTES = 256 * 1024 * 1024;

export class EncodingError extends Error {}

export interface DetectedEncoding {
  /** WHATWG name (Node's TextDecoder): 'utf-8', 'windows-1252', 'iso-8859-15'… */
  name: string;
  /** Name for GDAL's Shapefile ENCODING open option (iconv). */
  gdal: string;
  /** Where it comes from: 'parameter', 'cpg', 'ldid', 'bom', 'heuristic'. */
  source: 'parameter' | 'cpg' | 'ldid' | 'bom' | 'heuristic';
}

/** An encoding name the user gave (utf8, latin1, ISO-8859-1, cp1252, windows-1252…), checked. */
export function encodingFromParameter(value: string): DetectedEncoding {
  let name: string;
  try {
    name = new TextDecoder(value.trim()).encoding;
  } catch {
    throw new EncodingError(`Unknown encoding "${value.slice(0, 40)}" (e.g. UTF-8, ISO-8859-1, windows-1252)`);
  }
  return { name, gdal: gdalName(name), source: 'parameter' };
}

function gdalName(whatwg: string): string {
  if (whatwg === 'windows-1252') return 'CP1252';
  if (whatwg.startsWith('windows-')) return `CP${whatwg.slice(8)}`;
  return whatwg.toUpperCase();
}

/** Whether the bytes of `file` from `start` are UTF-8, and whether bytes 0x80–0x9F (C1, Windows-1252 only) appear. */
async function scanUtf8(file: string, start: number): Promise<{ utf8: boolean; c1: boolean; ascii: boolean }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let utf8 = true;
  let c1 = false;
  let ascii = true;
  for await (const chunk of createReadStream(file, { start, end: start + SCAN_BYTES - 1 }) as AsyncIterable<Buffer>) {
    for (const b of chunk) {
      if (b >= 0x80) {
        ascii = false;
        if (b <= 0x9f) c1 = true;
      }
    }
    if (utf8 && !ascii) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        utf8 = false;
      }
    }
  }
  return { utf8, c1, ascii };
}

function fromScan(s: { utf8: boolean; c1: boolean }): DetectedEncoding {
  if (s.utf8) return { name: 'utf-8', gdal: 'UTF-8', source: 'heuristic' };
  // Windows-1252 is a superset of Latin-1's printable characters; C1 bytes only make sense in it.
  return s.c1 ? { name: 'windows-1252', gdal: 'CP1252', source: 'heuristic' } : { name: 'iso-8859-1', gdal: 'ISO-8859-1', source: 'heuristic' };
}

/**
 * The encoding of a Shapefile's attributes (`file` is the .shp or .dbf). Undefined when GDAL will read it right
 * by itself (a .cpg or a language driver id it knows), so that no ENCODING option is needed.
 */
export async function shapefileEncoding(file: string): Promise<DetectedEncoding | undefined> {
  const base = file.replace(/\.(shp|dbf)$/i, '');
  const cpg = [`${base}.cpg`, `${base}.CPG`].find((f) => existsSync(f));
  if (cpg) {
    const label = readFileSync(cpg, 'latin1').trim();
    try {
      const e = encodingFromParameter(/^\d+$/.test(label) ? `windows-${label}` : label);
      return { ...e, source: 'cpg' };
    } catch {
      /* a .cpg GDAL may know better (e.g. "88591"): let it decide */
      return undefined;
    }
  }
  const dbf = [`${base}.dbf`, `${base}.DBF`].find((f) => existsSync(f));
  if (!dbf) return undefined;
  const fh = await open(dbf, 'r');
  const head = Buffer.alloc(32);
  try {
    await fh.read(head, 0, 32, 0);
  } finally {
    await fh.close();
  }
  if (head[29] !== 0) return undefined; // language driver id: GDAL maps it (e.g. 0x57 → ISO-8859-1)
  const headerLength = head.readUInt16LE(8);
  return fromScan(await scanUtf8(dbf, headerLength));
}

/** The encoding of a text file (CSV): a UTF-8 BOM, else the heuristic. */
export async function textFileEncoding(file: string): Promise<DetectedEncoding> {
  const fh = await open(file, 'r');
  const head = Buffer.alloc(3);
  try {
    await fh.read(head, 0, 3, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { name: 'utf-8', gdal: 'UTF-8', source: 'bom' };
  return fromScan(await scanUtf8(file, 0));
}
