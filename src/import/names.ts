/**
 * Safe names for imported layers: PostgreSQL table names and layer names are lower-case ASCII identifiers
 * (accents folded, other characters turned into `_`), so that `PLU_Orleans` or `Zones-Activité` become
 * `plu_orleans` and `zones_activite` and never need quoting; the user's own spelling is kept as the title.
 */

/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1), less room for the suffixes of staging and versions. */
const MAX_LENGTH = 48;

export class NameError extends Error {}

/** A lower-case ASCII identifier from any name: accents folded, runs of other characters as one `_`. */
export function safeName(name: string): string {
  const folded = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[œŒ]/g, 'oe')
    .replace(/[æÆ]/g, 'ae')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!folded) throw new NameError(`The name "${name.slice(0, 80)}" has no letter or digit to make a table name of`);
  const id = /^[0-9]/.test(folded) ? `l_${folded}` : folded;
  return id.slice(0, MAX_LENGTH).replace(/_+$/, '');
}
