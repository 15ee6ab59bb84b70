/**
 * CQL2 temporal and array predicates (OGC 21-065, requirements classes /req/temporal-functions and
 * /req/array-functions) → the shared AST, for both encodings (cql2-text-reader.ts, cql2-json-reader.ts): the
 * readers parse the operands, this module gives the predicate its meaning once.
 *
 * Temporal: the properties compared are instant-valued (a layer's date or timestamp column, a record's dates).
 * CQL2 defines each predicate on intervals (an instant is [t, t]), with a = [v, v] the property's value and
 * b = [B, E] the literal (an instant, or an INTERVAL whose '..' ends are open):
 *   T_AFTER v > E · T_BEFORE v < B · T_DURING B < v < E · T_EQUALS v = B = E · T_INTERSECTS B ≤ v ≤ E ·
 *   T_DISJOINT v < B or v > E · T_STARTS v = B < E · T_FINISHES B < v = E · T_MEETS v = B · T_METBY v = E ·
 *   T_CONTAINS, T_FINISHEDBY, T_OVERLAPPEDBY, T_OVERLAPS, T_STARTEDBY need a ≥ b or a overlapping b on both
 *   sides: never true of an instant (evaluated, false, the property still checked).
 * The literal first (T_AFTER(TIMESTAMP(…), p)) is the converse predicate with the property first.
 * Each becomes a FES `timeOp` node (src/filter/temporal.ts: a date covers its whole UTC day), compiled by the
 * layer compiler (compile-sql.ts) and by the catalogue's (src/record-search/compile.ts).
 *
 * Array: A_EQUALS, A_CONTAINS (every value of the list is one of the property's), A_CONTAINEDBY (every value of
 * the property is in the list), A_OVERLAPS (at least one in common), between an array-valued property and a
 * list of literals, compared as sets.
 */
import type { ArrayOperator, Expression, Filter, TemporalBound, TemporalOperator } from './ast.js';
import { DatetimeError, checkPeriod, parseTimePosition } from './temporal.js';

/** An operand of a temporal predicate as a reader found it. */
export type TemporalOperand =
  | { kind: 'property'; name: string }
  /** An instant literal (DATE / TIMESTAMP) or an interval; an undefined end is open ('..'). */
  | { kind: 'period'; begin?: TemporalBound; end?: TemporalBound };

export const TEMPORAL_PREDICATES = [
  't_after', 't_before', 't_contains', 't_disjoint', 't_during', 't_equals', 't_finishedby', 't_finishes',
  't_intersects', 't_meets', 't_metby', 't_overlappedby', 't_overlaps', 't_startedby', 't_starts',
] as const;
export type TemporalPredicate = (typeof TEMPORAL_PREDICATES)[number];

/** a OP b ⇔ b CONVERSE(OP) a. */
const CONVERSE: Record<TemporalPredicate, TemporalPredicate> = {
  t_after: 't_before', t_before: 't_after', t_contains: 't_during', t_during: 't_contains', t_disjoint: 't_disjoint',
  t_equals: 't_equals', t_intersects: 't_intersects', t_finishedby: 't_finishes', t_finishes: 't_finishedby',
  t_meets: 't_metby', t_metby: 't_meets', t_overlappedby: 't_overlaps', t_overlaps: 't_overlappedby',
  t_startedby: 't_starts', t_starts: 't_startedby',
};

/** Open ends of an interval: the first and the last day a date can name (src/filter/temporal.ts reads years 1–9999). */
const DAWN: TemporalBound = { date: '0001-01-01' };
const DUSK: TemporalBound = { date: '9999-12-31' };

const sameBound = (a: TemporalBound, b: TemporalBound) => ('date' in a ? a.date : a.instant) === ('date' in b ? b.date : b.instant);

/** A CQL2 date (YYYY-MM-DD) or RFC 3339 timestamp with its offset, as written in DATE('…') / TIMESTAMP('…') / {"date"} / {"timestamp"}. */
export function instantLiteral(text: string, fail: (message: string) => never): TemporalBound {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    return fail(`'${text.slice(0, 40)}' is neither a date nor an RFC 3339 timestamp`);
  }
  try {
    return parseTimePosition(text);
  } catch (e) {
    if (e instanceof DatetimeError) return fail(e.message);
    throw e;
  }
}

export function isTemporalPredicate(op: string): op is TemporalPredicate {
  return (TEMPORAL_PREDICATES as readonly string[]).includes(op);
}

/**
 * The filter of a CQL2 temporal predicate (`op` lower case) between a property and a literal, in either order.
 * `fail` reports what a client must change (the reader's error, with its locator).
 */
export function temporalPredicate(op: TemporalPredicate, a: TemporalOperand, b: TemporalOperand, fail: (message: string) => never): Filter {
  if (a.kind === 'property' && b.kind === 'property') return fail(`${op.toUpperCase()} between two properties is not supported`);
  if (a.kind === 'period' && b.kind === 'period') return fail(`${op.toUpperCase()} needs a property`);
  const [property, period, effective] = a.kind === 'property' ? [a.name, b as Extract<TemporalOperand, { kind: 'period' }>, op] : [(b as { name: string }).name, a, CONVERSE[op]];
  if (!period.begin && !period.end) return fail('an interval needs at least one end (INTERVAL(\'..\', \'..\') is refused)');
  const begin = period.begin ?? DAWN;
  const end = period.end ?? DUSK;
  try {
    checkPeriod(begin, end);
  } catch (e) {
    if (e instanceof DatetimeError) return fail('the interval begins after it ends');
    throw e;
  }
  const node = (o: TemporalOperator): Filter => ({ kind: 'timeOp', op: o, property, begin, end });
  // A literal that is one instant: b = e (an INTERVAL of the same instant twice is one too).
  const instant = sameBound(begin, end);
  // Never true of an instant-valued property: the property is still compiled (checked), the result is false.
  const never: Filter = { kind: 'and', operands: [node('AnyInteracts'), { kind: 'exclude' }] };
  switch (effective) {
    case 't_after':
      return node('After');
    case 't_before':
      return node('Before');
    case 't_during':
      return node('During');
    case 't_equals':
      return node('TEquals');
    case 't_intersects':
      return node('AnyInteracts');
    case 't_disjoint':
      return { kind: 'or', operands: [node('Before'), node('After')] };
    case 't_starts':
      return instant ? never : node('Begins');
    case 't_finishes':
      return instant ? never : node('Ends');
    case 't_meets':
      return node('Begins');
    case 't_metby':
      return node('Ends');
    case 't_contains':
    case 't_finishedby':
    case 't_overlappedby':
    case 't_overlaps':
    case 't_startedby':
      return never;
  }
}

export const ARRAY_PREDICATES: Record<string, ArrayOperator> = { a_equals: 'equals', a_contains: 'contains', a_containedby: 'containedBy', a_overlaps: 'overlaps' };
const ARRAY_CONVERSE: Record<ArrayOperator, ArrayOperator> = { equals: 'equals', overlaps: 'overlaps', contains: 'containedBy', containedBy: 'contains' };

/** An operand of an array predicate: a property, or a list of values. */
export type ArrayOperand = { kind: 'property'; name: string } | { kind: 'list'; values: Expression[] };

/** The filter of a CQL2 array predicate (`op` lower case) between a property and a list, in either order. */
export function arrayPredicate(op: string, a: ArrayOperand, b: ArrayOperand, fail: (message: string) => never): Filter {
  const o = ARRAY_PREDICATES[op];
  if (!o) return fail(`unknown array predicate ${op.toUpperCase()}`);
  if (a.kind === 'property' && b.kind === 'list') return { kind: 'array', op: o, property: a.name, values: b.values };
  if (a.kind === 'list' && b.kind === 'property') return { kind: 'array', op: ARRAY_CONVERSE[o], property: b.name, values: a.values };
  return fail(`${op.toUpperCase()} needs a property and a list of values ('a', 'b')`);
}
