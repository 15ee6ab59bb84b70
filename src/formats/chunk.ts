/**
 * Turn a batch of encoded rows into one Buffer for the socket. Measured on 4,000 rows of 750 bytes:
 * Array.join + write costs 10–17 ms (V8 flattens and re-encodes a 3 MB string), encoding each row into a
 * pooled Buffer and concatenating costs 4–5 ms. On the hot path of every feature response.
 */
export function rowsToBuffer(rows: string[], separator?: string, leadingSeparator = false): Buffer {
  const sep = separator ? Buffer.from(separator) : undefined;
  const parts: Buffer[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (sep && (i > 0 || leadingSeparator)) parts.push(sep);
    parts.push(Buffer.from(rows[i]!));
  }
  return Buffer.concat(parts);
}
