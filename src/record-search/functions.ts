/**
 * The filter functions the catalogue evaluates (Filter Encoding 1.1 §12 ogc:Function, CQL function calls),
 * advertised in the capabilities' ogc:ArithmeticOperators/ogc:Functions with their arity. Each takes one
 * string argument (a queryable, or another of these functions) and is compiled to the SQL function named here.
 */
import { OgcError } from '../ogc/errors.js';

export interface FilterFunction {
  /** Name as advertised and as clients send it (matched case-insensitively). */
  name: string;
  /** Number of arguments. */
  arity: number;
  returns: 'string' | 'number';
  /** SQL over the (text) argument. Trusted text. */
  sql: (arg: string) => string;
}

export const FILTER_FUNCTIONS: readonly FilterFunction[] = [
  { name: 'upper', arity: 1, returns: 'string', sql: (a) => `upper(${a})` },
  { name: 'lower', arity: 1, returns: 'string', sql: (a) => `lower(${a})` },
  { name: 'length', arity: 1, returns: 'number', sql: (a) => `char_length(${a})` },
  { name: 'trim', arity: 1, returns: 'string', sql: (a) => `btrim(${a})` },
  { name: 'ltrim', arity: 1, returns: 'string', sql: (a) => `ltrim(${a})` },
  { name: 'rtrim', arity: 1, returns: 'string', sql: (a) => `rtrim(${a})` },
];

const BY_NAME = new Map(FILTER_FUNCTIONS.map((f) => [f.name, f]));

/**
 * The function of that name. An unknown one is NoApplicableCode (CSW 2.0.2 §10.3.7 / issue 12: the server
 * cannot evaluate it), with HTTP 400 since the request is at fault.
 */
export function filterFunction(name: string, argCount: number, locator: string): FilterFunction {
  const f = BY_NAME.get(name.trim().toLowerCase());
  if (!f) throw new OgcError('NoApplicableCode', `Unknown filter function '${name.slice(0, 60)}' (supported: ${FILTER_FUNCTIONS.map((x) => x.name).join(', ')})`, locator, 400);
  if (argCount !== f.arity) throw new OgcError('InvalidParameterValue', `Function ${f.name} takes ${f.arity} argument${f.arity === 1 ? '' : 's'}, got ${argCount}`, locator);
  return f;
}
