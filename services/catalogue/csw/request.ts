/**
 * Typed CSW 2.0.2 requests: what the KVP and XML readers produce and the operations consume.
 * Nothing here touches the database.
 */
import type { Filter } from '../../../src/filter/ast.js';
import { OgcError, invalid } from '../../../src/ogc/errors.js';
import type { XmlElement } from '../../../src/xml/tree.js';
import { NS } from '../../../src/xml/namespaces.js';
import type { SortKey } from '../../../src/record-search/plan.js';

export const CSW_NS = NS.csw202;
export const GMD_NS = NS.gmd;
export const CSW_VERSION = '2.0.2';
/** DCAT (udata `csw-dcat`) and GeoDCAT-AP (its `geodcatap` feature): each record a self-contained rdf:RDF. */
export const DCAT_NS = 'http://www.w3.org/ns/dcat#';
export const GEODCAT_NS = 'http://data.europa.eu/930/';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';

export type OutputSchema = 'csw' | 'gmd' | 'dcat' | 'geodcat' | 'atom';
export type ElementSet = 'brief' | 'summary' | 'full';
export type TypeName = 'csw:Record' | 'gmd:MD_Metadata';

export const OUTPUT_SCHEMA_URI: Record<OutputSchema, string> = { csw: CSW_NS, gmd: GMD_NS, dcat: DCAT_NS, geodcat: GEODCAT_NS, atom: ATOM_NS };

export const isRdfSchema = (s: OutputSchema): s is 'dcat' | 'geodcat' => s === 'dcat' || s === 'geodcat';

/** CSW-T (services/catalogue/csw/transaction.ts). Records are kept as elements here and parsed by transaction(), after authentication. */
export type TransactionAction =
  | { kind: 'insert'; handle?: string; records: XmlElement[] }
  | { kind: 'update'; handle?: string; record: XmlElement }
  | { kind: 'delete'; handle?: string; constraint: Filter };

export interface TransactionRequest {
  op: 'Transaction';
  requestId?: string;
  verboseResponse: boolean;
  actions: TransactionAction[];
}

/** A sort key over the catalogue queryables: the one type of every search of the catalogue (src/record-search). */
export type { SortKey } from '../../../src/record-search/plan.js';

export interface GetCapabilitiesRequest {
  op: 'GetCapabilities';
  sections?: string[];
  language?: string;
}

export interface DescribeRecordRequest {
  op: 'DescribeRecord';
  typeNames: TypeName[];
}

export interface GetRecordsRequest {
  op: 'GetRecords';
  resultType: 'hits' | 'results' | 'validate';
  outputSchema: OutputSchema;
  outputFormat: string;
  startPosition: number;
  maxRecords: number;
  typeNames: TypeName[];
  elementSet: ElementSet;
  /** ElementName list (instead of an element set). */
  elementNames?: string[];
  constraint?: Filter;
  /** The property names of an XML constraint as written (the filter AST holds them without prefix). */
  constraintNames?: string[];
  sortBy?: SortKey[];
  requestId?: string;
  /** The request as XML, for resultType=validate (csw:EchoedRequest). */
  echo: string;
}

export interface GetRecordByIdRequest {
  op: 'GetRecordById';
  ids: string[];
  outputSchema: OutputSchema;
  outputFormat: string;
  elementSet: ElementSet;
  elementNames?: string[];
}

export interface GetDomainRequest {
  op: 'GetDomain';
  parameterNames: string[];
  propertyNames: string[];
}

export type CswRequest = GetCapabilitiesRequest | DescribeRecordRequest | GetRecordsRequest | GetRecordByIdRequest | GetDomainRequest | TransactionRequest;

export const OPERATIONS = ['GetCapabilities', 'DescribeRecord', 'GetRecords', 'GetRecordById', 'GetDomain', 'Transaction'] as const;
/** Operations of the CSW-T / harvest profile that this first version does not offer. */
export const UNSUPPORTED_OPERATIONS = ['UnHarvest', 'GetRepositoryItem'];

/** Accepted outputSchema spellings (URIs with or without a trailing slash, and the old aliases). */
export function parseOutputSchema(value: string | undefined): OutputSchema {
  if (value === undefined || value.trim() === '') return 'csw';
  const v = value.trim().replace(/\/+$/, '');
  if (v === CSW_NS || v === 'csw:Record' || v === 'http://www.opengis.net/cat/csw') return 'csw';
  if (v === GMD_NS || v === 'csw:IsoRecord' || v === 'gmd:MD_Metadata' || v === 'http://www.isotc211.org/2005/gmd/gmd.xsd') return 'gmd';
  if (v === DCAT_NS || v === 'http://www.w3.org/ns/dcat') return 'dcat';
  if (v === 'http://data.europa.eu/930') return 'geodcat';
  if (v === ATOM_NS) return 'atom';
  throw invalid('outputSchema', `outputSchema '${value.slice(0, 200)}' is not supported (supported: ${CSW_NS}, ${GMD_NS}, ${DCAT_NS}, ${GEODCAT_NS}, ${ATOM_NS})`);
}

export function parseElementSet(value: string | undefined, dflt: ElementSet, locator = 'ElementSetName'): ElementSet {
  if (value === undefined || value.trim() === '') return dflt;
  const v = value.trim().toLowerCase();
  if (v === 'brief' || v === 'summary' || v === 'full') return v;
  throw invalid(locator, `ElementSetName must be brief, summary or full, got '${value.slice(0, 50)}'`);
}

export function parseResultType(value: string | undefined): GetRecordsRequest['resultType'] {
  if (value === undefined || value.trim() === '') return 'hits';
  const v = value.trim().toLowerCase();
  if (v === 'hits' || v === 'results' || v === 'validate') return v;
  throw invalid('resultType', `resultType must be hits, results or validate, got '${value.slice(0, 50)}'`);
}

/**
 * A type name with its namespace (undefined when the prefix is not declared) → csw:Record or gmd:MD_Metadata.
 * Undeclared prefixes are accepted (clients often omit the declaration); a prefix bound elsewhere is not.
 */
export function resolveTypeName(qname: string, ns: string | undefined, locator = 'typeNames'): TypeName {
  const colon = qname.indexOf(':');
  const local = colon >= 0 ? qname.slice(colon + 1) : qname;
  if (local === 'Record' && (ns === undefined || ns === '' || ns === CSW_NS)) return 'csw:Record';
  if (local === 'MD_Metadata' && (ns === undefined || ns === '' || ns === GMD_NS)) return 'gmd:MD_Metadata';
  throw invalid(locator, `Unknown type name '${qname.slice(0, 100)}' (supported: csw:Record, gmd:MD_Metadata)`);
}

/**
 * A DescribeRecord TypeName (CSW 2.0.2 §10.6.4.3): a name without a namespace is an InvalidParameterValue (CSW
 * 2.0.2 test suite DescribeRecord-tc7.1, as pycsw and GeoNetwork answer); a qualified name the catalogue does not
 * know is no error but gets no schema component (DescribeRecord-tc3.1): undefined.
 */
export function describeTypeName(qname: string, ns: string | undefined, locator = 'typeName'): TypeName | undefined {
  if (!qname.includes(':') && !ns) throw invalid(locator, `TypeName '${qname.slice(0, 100)}' is not qualified (csw:Record, gmd:MD_Metadata, with their namespaces)`);
  try {
    return resolveTypeName(qname, ns, locator);
  } catch {
    return undefined;
  }
}

/** typeNames lists are separated by spaces or commas (GeoNetwork sends "csw:Record,gmd:MD_Metadata"). */
export function splitTypeNames(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

export function checkService(value: string | undefined): void {
  if (value !== undefined && value.trim() !== '' && value.trim().toUpperCase() !== 'CSW') throw invalid('service', `Service '${value.slice(0, 50)}' is not CSW`);
}

export function checkVersion(value: string | undefined): void {
  if (value !== undefined && value.trim() !== '' && value.trim() !== CSW_VERSION) {
    throw invalid('version', `Version '${value.slice(0, 50)}' is not supported (supported: ${CSW_VERSION})`);
  }
}

export function unsupportedOperation(name: string): OgcError {
  return new OgcError('OperationNotSupported', `Operation '${name.slice(0, 100)}' is not supported (supported: ${OPERATIONS.join(', ')})`, 'request');
}
