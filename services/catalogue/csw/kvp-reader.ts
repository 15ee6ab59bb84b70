/**
 * CSW KVP (GET, or form-encoded POST) → typed request. Parameter names in any case (src/ogc/kvp.ts);
 * typeNames separated by spaces or commas and resolved through NAMESPACE=xmlns(p=uri),…; constraints in
 * FILTER (Filter 1.1 XML) or CQL_TEXT (CQL accepted as a synonym).
 */
import { limitSortKeys } from '../../../src/ogc/limits.js';
import { Kvp, list, parseNamespaces } from '../../../src/ogc/kvp.js';
import { OgcError, invalid, missing } from '../../../src/ogc/errors.js';
import { serializeXml, parseXml, XmlInputError, type XmlElement } from '../../../src/xml/tree.js';
import { readFesFilter } from '../../../src/filter/fes-reader.js';
import { checkFilterNamespaces, filterPropertyNames } from './filter-namespaces.js';
import { parseCql2Text } from '../../../src/filter/cql2-text-reader.js';
import type { Filter } from '../../../src/filter/ast.js';
import { xmlEscape as x } from '../../../src/xml/escape.js';
import { CONSTRAINT_LOCATOR } from '../../../src/record-search/compile.js';
import {
  checkService,
  checkVersion,
  CSW_NS,
  OPERATIONS,
  OUTPUT_SCHEMA_URI,
  parseElementSet,
  parseOutputSchema,
  parseResultType,
  resolveTypeName,
  describeTypeName,
  splitTypeNames,
  unsupportedOperation,
  type CswRequest,
  type OutputSchema,
  type SortKey,
  type TypeName,
} from './request.js';

export interface ReaderLimits {
  maxRecords: number;
}

/**
 * A gml:Envelope (or geometry) without srsName in a CSW constraint is in the CSW default CRS,
 * urn:ogc:def:crs:EPSG::4326, latitude first (CSW 2.0.2 §10.2.5 / ISO AP 1.0 §7.2.6; pycsw and GeoNetwork
 * read it so, and MetaSearch-style boxes were missed when read longitude first: issue 12).
 */
export const CSW_FILTER_OPTIONS = { defaultSrsName: 'urn:ogc:def:crs:EPSG::4326' } as const;

/** The one KVP namespace parser (src/ogc/kvp.ts), under the name the CSW readers use. */
export const parseNamespaceParam = parseNamespaces;

export function parsePositiveInt(value: string | undefined, locator: string, dflt: number, { min, max }: { min: number; max: number }): number {
  if (value === undefined || value.trim() === '') return dflt;
  const v = value.trim();
  if (!/^\+?\d+$/.test(v)) throw invalid(locator, `${locator} must be an integer, got '${v.slice(0, 50)}'`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw invalid(locator, `${locator} must be at least ${min}, got ${v.slice(0, 50)}`);
  if (n > max) throw invalid(locator, `${locator} ${v.slice(0, 50)} exceeds the maximum of ${max}`);
  return n;
}

/** DescribeRecord schemaLanguage (CSW 2.0.2 §10.6.4.4): XML Schema only, under any of its usual names. */
export function checkSchemaLanguage(lang: string | undefined): void {
  if (lang && !/^(XMLSCHEMA|http:\/\/www\.w3\.org\/XML\/Schema|http:\/\/www\.w3\.org\/2001\/XMLSchema)$/i.test(lang.trim())) {
    throw invalid('schemaLanguage', `schemaLanguage '${lang.slice(0, 80)}' is not supported (http://www.w3.org/XML/Schema)`);
  }
}

/** Re-locate reader errors (FILTER / filter) on the CSW parameter. */
export function asConstraintError(e: unknown): never {
  if (e instanceof OgcError) throw new OgcError(e.code, e.message, CONSTRAINT_LOCATOR, e.status);
  throw e;
}

export function readFilterXml(text: string): { filter: Filter; element: XmlElement } {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlInputError) throw new OgcError('InvalidParameterValue', `Invalid constraint: ${e.message}`, CONSTRAINT_LOCATOR);
    throw e;
  }
  checkFilterNamespaces(root, CONSTRAINT_LOCATOR);
  try {
    return { filter: readFesFilter(root, CSW_FILTER_OPTIONS), element: root };
  } catch (e) {
    return asConstraintError(e);
  }
}

export function readCql(text: string): Filter {
  try {
    return parseCql2Text(text);
  } catch (e) {
    return asConstraintError(e);
  }
}

/** SORTBY=dc:title:A,dct:modified:D (the order suffix is optional; ASC/DESC also accepted). */
export function parseSortByKvp(value: string | undefined): SortKey[] | undefined {
  if (!value || !value.trim()) return undefined;
  return limitSortKeys(list(value), 'SortBy').map((item) => {
    const m = /^(.*?)(?::|\s+)(A|D|ASC|DESC)$/i.exec(item.trim());
    const name = (m ? m[1]! : item).trim();
    if (!name) throw invalid('SortBy', `Invalid SortBy item '${item.slice(0, 60)}'`);
    return { name, descending: m ? m[2]!.toUpperCase().startsWith('D') : false };
  });
}

export function readCswKvp(kvp: Kvp, limits: ReaderLimits): CswRequest {
  checkService(kvp.value('SERVICE'));
  const request = kvp.value('REQUEST');
  if (!request) throw missing('request');
  const op = OPERATIONS.find((o) => o.toLowerCase() === request.toLowerCase());
  if (!op) throw unsupportedOperation(request);
  if (op === 'Transaction') throw new OgcError('OperationNotSupported', 'Transaction is only available as an XML POST', 'request');
  const namespaces = parseNamespaceParam(kvp.value('NAMESPACE') ?? kvp.value('NAMESPACES'));
  const typeNamesOf = (value: string, locator: string): TypeName[] =>
    splitTypeNames(value).map((q) => {
      const colon = q.indexOf(':');
      const prefix = colon >= 0 ? q.slice(0, colon) : '';
      return resolveTypeName(q, prefix ? namespaces.get(prefix) : undefined, locator);
    });

  if (op === 'GetCapabilities') {
    const accept = kvp.value('ACCEPTVERSIONS');
    if (accept && !list(accept).includes('2.0.2')) {
      throw new OgcError('VersionNegotiationFailed', `None of the versions ${accept.slice(0, 100)} is supported (supported: 2.0.2)`, 'AcceptVersions');
    }
    const sections = kvp.value('SECTIONS');
    return { op, sections: sections ? list(sections) : undefined, language: kvp.value('LANGUAGE') };
  }
  checkVersion(kvp.value('VERSION'));

  switch (op) {
    case 'DescribeRecord': {
      const tn = kvp.value('TYPENAME') ?? kvp.value('TYPENAMES');
      checkOutputFormat(kvp.value('OUTPUTFORMAT'));
      checkSchemaLanguage(kvp.value('SCHEMALANGUAGE'));
      const described = (value: string): TypeName[] =>
        splitTypeNames(value).flatMap((q) => {
          const colon = q.indexOf(':');
          const t = describeTypeName(q, colon >= 0 ? namespaces.get(q.slice(0, colon)) : undefined, 'typeName');
          return t ? [t] : [];
        });
      return { op, typeNames: tn ? described(tn) : ['csw:Record', 'gmd:MD_Metadata'] };
    }
    case 'GetRecordById': {
      const ids = kvp.value('ID');
      if (!ids) throw missing('id');
      return {
        op,
        ids: list(ids),
        outputSchema: parseOutputSchema(kvp.value('OUTPUTSCHEMA')),
        outputFormat: checkOutputFormat(kvp.value('OUTPUTFORMAT')),
        elementSet: parseElementSet(kvp.value('ELEMENTSETNAME'), 'summary'),
        elementNames: kvp.value('ELEMENTNAME') ? list(kvp.value('ELEMENTNAME')) : undefined,
      };
    }
    case 'GetDomain': {
      const parameterNames = list(kvp.value('PARAMETERNAME'));
      const propertyNames = list(kvp.value('PROPERTYNAME'));
      if (!parameterNames.length && !propertyNames.length) throw missing('ParameterName');
      return { op, parameterNames, propertyNames };
    }
    case 'GetRecords': {
      const typeNamesText = kvp.value('TYPENAMES') ?? kvp.value('TYPENAME');
      const typeNames = typeNamesText ? typeNamesOf(typeNamesText, 'typeNames') : (['csw:Record'] as TypeName[]);
      const outputSchema = parseOutputSchema(kvp.value('OUTPUTSCHEMA'));
      const outputFormat = checkOutputFormat(kvp.value('OUTPUTFORMAT'));
      const resultType = parseResultType(kvp.value('RESULTTYPE'));
      const startPosition = parsePositiveInt(kvp.value('STARTPOSITION'), 'startPosition', 1, { min: 1, max: 1_000_000_000 });
      // Above the server's cap, a page of the cap's size (with its nextRecord), as pycsw and GeoNetwork answer:
      // harvesters ask 500, 9999 or more and must not get an exception (issue 12).
      const maxRecords = Math.min(parsePositiveInt(kvp.value('MAXRECORDS'), 'maxRecords', 10, { min: 0, max: Number.MAX_SAFE_INTEGER }), limits.maxRecords);
      const elementNames = kvp.value('ELEMENTNAME') ? list(kvp.value('ELEMENTNAME')) : undefined;
      // CSW 2.0.2 §10.8.4.9: ElementName and ElementSetName are mutually exclusive.
      if (elementNames && kvp.value('ELEMENTSETNAME')) throw new OgcError('InvalidParameterValue', 'ElementName and ElementSetName are mutually exclusive (CSW 2.0.2 §10.8.4.9)', 'ElementName');
      const elementSet = parseElementSet(kvp.value('ELEMENTSETNAME'), 'summary');
      if (kvp.value('RESPONSEHANDLER')) throw new OgcError('OptionNotSupported', 'Asynchronous responses (ResponseHandler) are not supported', 'ResponseHandler');
      const constraintText = kvp.value('CONSTRAINT');
      const language = (kvp.value('CONSTRAINTLANGUAGE') ?? '').toUpperCase();
      let constraint: Filter | undefined;
      let constraintNames: string[] | undefined;
      let constraintEcho = '';
      if (constraintText) {
        if (!language) throw missing('constraintLanguage');
        if (language === 'FILTER') {
          const { filter, element } = readFilterXml(constraintText);
          constraint = filter;
          constraintNames = filterPropertyNames(element);
          constraintEcho = `<csw:Constraint version="1.1.0">${serializeXml(element)}</csw:Constraint>`;
        } else if (language === 'CQL_TEXT' || language === 'CQL') {
          constraint = readCql(constraintText);
          constraintEcho = `<csw:Constraint version="1.1.0"><csw:CqlText>${x(constraintText)}</csw:CqlText></csw:Constraint>`;
        } else throw invalid('constraintLanguage', `constraintLanguage must be FILTER or CQL_TEXT, got '${language.slice(0, 50)}'`);
      } else if (language && language !== 'FILTER' && language !== 'CQL_TEXT' && language !== 'CQL') {
        throw invalid('constraintLanguage', `constraintLanguage must be FILTER or CQL_TEXT, got '${language.slice(0, 50)}'`);
      }
      const sortBy = parseSortByKvp(kvp.value('SORTBY'));
      const requestId = kvp.value('REQUESTID');
      const echo =
        `<csw:GetRecords xmlns:csw="${CSW_NS}" service="CSW" version="2.0.2" resultType="${resultType}" outputSchema="${x(outputSchemaUri(outputSchema))}" startPosition="${startPosition}" maxRecords="${maxRecords}">` +
        `<csw:Query typeNames="${typeNames.join(' ')}">` +
        (elementNames ? elementNames.map((n) => `<csw:ElementName>${x(n)}</csw:ElementName>`).join('') : `<csw:ElementSetName>${elementSet}</csw:ElementSetName>`) +
        constraintEcho +
        '</csw:Query></csw:GetRecords>';
      return { op, resultType, outputSchema, outputFormat, startPosition, maxRecords, typeNames, elementSet, elementNames, constraint, ...(constraintNames ? { constraintNames } : {}), sortBy, requestId, echo };
    }
  }
}

const outputSchemaUri = (s: OutputSchema) => OUTPUT_SCHEMA_URI[s];

/** application/xml (default) or text/xml; anything else is refused. */
export function checkOutputFormat(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return 'application/xml';
  const v = value.trim().toLowerCase().split(';')[0]!.trim();
  if (v === 'application/xml' || v === 'text/xml') return v;
  throw invalid('outputFormat', `outputFormat '${value.slice(0, 80)}' is not supported (supported: application/xml, text/xml)`);
}
