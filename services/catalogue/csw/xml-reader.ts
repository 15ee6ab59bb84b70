/**
 * CSW XML (POST) → typed request: GetCapabilities, DescribeRecord, GetRecords (csw:Query with
 * ElementSetName / ElementName, csw:Constraint holding ogc:Filter or csw:CqlText, ogc:SortBy),
 * GetRecordById, GetDomain. Elements are matched on namespace URI + local name, and also when the client
 * left the CSW namespace undeclared; prefixes in typeNames and property names need not be declared.
 */
import { XmlBusyError } from '../../../src/xml/parse-pool.js';
import { limitSortKeys } from '../../../src/ogc/limits.js';
import { serializeXml, parseXml, XmlInputError, type XmlElement } from '../../../src/xml/tree.js';
import { NS } from '../../../src/xml/namespaces.js';
import { OgcError, invalid, missing } from '../../../src/ogc/errors.js';
import { readFesFilter, normalisePropertyName } from '../../../src/filter/fes-reader.js';
import type { Filter } from '../../../src/filter/ast.js';
import { CSW_FILTER_OPTIONS, asConstraintError, checkOutputFormat, checkSchemaLanguage, parsePositiveInt, readCql, type ReaderLimits } from './kvp-reader.js';
import { readTransactionXml } from './transaction.js';
import { checkFilterNamespaces, filterPropertyNames } from './filter-namespaces.js';
import {
  checkService,
  checkVersion,
  CSW_NS,
  OPERATIONS,
  parseElementSet,
  parseOutputSchema,
  parseResultType,
  resolveTypeName,
  describeTypeName,
  splitTypeNames,
  unsupportedOperation,
  type CswRequest,
  type SortKey,
  type TypeName,
} from './request.js';

const isCsw = (el: XmlElement) => el.ns === CSW_NS || el.ns === '';
const cswChildren = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name && isCsw(c));
const cswChild = (el: XmlElement, name: string) => cswChildren(el, name)[0];
const isOgc = (el: XmlElement) => el.ns === NS.ogc || el.ns === NS.fes20 || el.ns === '';

function typeNamesAttr(el: XmlElement, value: string, locator: string): TypeName[] {
  return splitTypeNames(value).map((q) => {
    const colon = q.indexOf(':');
    const prefix = colon >= 0 ? q.slice(0, colon) : '';
    return resolveTypeName(q, prefix ? el.scope[prefix] : el.scope[''], locator);
  });
}

function readSortBy(el: XmlElement | undefined): SortKey[] | undefined {
  if (!el) return undefined;
  const keys: SortKey[] = [];
  for (const sp of limitSortKeys(el.children.filter((c) => c.name === 'SortProperty'), 'SortBy')) {
    const pn = sp.children.find((c) => (c.name === 'PropertyName' || c.name === 'ValueReference') && isOgc(c));
    if (!pn || !pn.text.trim()) throw missing('SortBy');
    const order = (sp.children.find((c) => c.name === 'SortOrder')?.text ?? 'ASC').trim().toUpperCase();
    if (order !== 'ASC' && order !== 'DESC') throw invalid('SortBy', `SortOrder must be ASC or DESC, got '${order.slice(0, 20)}'`);
    let name: string;
    try {
      name = normalisePropertyName(pn.text);
    } catch (e) {
      throw e instanceof OgcError ? invalid('SortBy', e.message) : e;
    }
    keys.push({ name, descending: order === 'DESC' });
  }
  return keys.length ? keys : undefined;
}

function readConstraint(c: XmlElement | undefined): Filter | undefined {
  if (!c) return undefined;
  const filterEl = c.children.find((k) => k.name === 'Filter');
  const cql = cswChild(c, 'CqlText');
  if (filterEl) {
    checkFilterNamespaces(filterEl, 'Constraint');
    try {
      return readFesFilter(filterEl, CSW_FILTER_OPTIONS);
    } catch (e) {
      return asConstraintError(e);
    }
  }
  if (cql) return cql.text.trim() ? readCql(cql.text) : undefined;
  throw new OgcError('MissingParameterValue', 'csw:Constraint needs an ogc:Filter or a csw:CqlText', 'Constraint');
}

/** The request body as text, or already parsed (the service parses large bodies off the event loop). */
export function readCswXml(body: string | XmlElement, limits: ReaderLimits): CswRequest {
  let root: XmlElement;
  try {
    root = typeof body === 'string' ? parseXml(body) : body;
  } catch (e) {
    throw cswXmlError(e);
  }
  checkService(root.attrs['service']);
  const op = OPERATIONS.find((o) => o === root.name);
  if (!op || !isCsw(root)) throw unsupportedOperation(root.prefix ? `${root.prefix}:${root.name}` : root.name);

  if (op === 'GetCapabilities') {
    const accept = root.children.find((c) => c.name === 'AcceptVersions');
    const versions = accept ? accept.children.filter((c) => c.name === 'Version').map((v) => v.text.trim()) : [];
    if (versions.length && !versions.includes('2.0.2')) {
      throw new OgcError('VersionNegotiationFailed', `None of the versions ${versions.join(', ').slice(0, 100)} is supported (supported: 2.0.2)`, 'AcceptVersions');
    }
    const sectionsEl = root.children.find((c) => c.name === 'Sections');
    const sections = sectionsEl ? sectionsEl.children.filter((c) => c.name === 'Section').map((s) => s.text.trim()) : undefined;
    return { op, sections, language: root.attrs['language'] };
  }
  checkVersion(root.attrs['version']);

  switch (op) {
    case 'Transaction':
      return readTransactionXml(root);
    case 'DescribeRecord': {
      const names = cswChildren(root, 'TypeName');
      checkOutputFormat(root.attrs['outputFormat']);
      checkSchemaLanguage(root.attrs['schemaLanguage']);
      const described = (n: XmlElement): TypeName[] =>
        splitTypeNames(n.text.trim()).flatMap((q) => {
          const colon = q.indexOf(':');
          const t = describeTypeName(q, colon >= 0 ? n.scope[q.slice(0, colon)] : n.scope[''], 'TypeName');
          return t ? [t] : [];
        });
      const typeNames = names.length ? names.flatMap(described) : (['csw:Record', 'gmd:MD_Metadata'] as TypeName[]);
      return { op, typeNames };
    }
    case 'GetRecordById': {
      const ids = cswChildren(root, 'Id').map((i) => i.text.trim()).filter(Boolean);
      if (!ids.length) throw missing('Id');
      const names = cswChildren(root, 'ElementName').map((e) => e.text.trim());
      return {
        op,
        ids,
        outputSchema: parseOutputSchema(root.attrs['outputSchema']),
        outputFormat: checkOutputFormat(root.attrs['outputFormat']),
        elementSet: parseElementSet(cswChild(root, 'ElementSetName')?.text, 'summary'),
        elementNames: names.length ? names : undefined,
      };
    }
    case 'GetDomain': {
      const parameterNames = cswChildren(root, 'ParameterName').map((e) => e.text.trim()).filter(Boolean);
      const propertyNames = cswChildren(root, 'PropertyName').map((e) => e.text.trim()).filter(Boolean);
      if (!parameterNames.length && !propertyNames.length) throw missing('ParameterName');
      return { op, parameterNames, propertyNames };
    }
    case 'GetRecords': {
      const outputSchema = parseOutputSchema(root.attrs['outputSchema']);
      const outputFormat = checkOutputFormat(root.attrs['outputFormat']);
      const resultType = parseResultType(root.attrs['resultType']);
      const startPosition = parsePositiveInt(root.attrs['startPosition'], 'startPosition', 1, { min: 1, max: 1_000_000_000 });
      // Above the server's cap: a page of the cap's size (issue 12; see the KVP reader).
      const maxRecords = Math.min(parsePositiveInt(root.attrs['maxRecords'], 'maxRecords', 10, { min: 0, max: Number.MAX_SAFE_INTEGER }), limits.maxRecords);
      if (cswChild(root, 'ResponseHandler')) throw new OgcError('OptionNotSupported', 'Asynchronous responses (ResponseHandler) are not supported', 'ResponseHandler');
      const query = cswChild(root, 'Query');
      if (!query) throw missing('Query');
      const tn = query.attrs['typeNames'];
      const typeNames = tn && tn.trim() ? typeNamesAttr(query, tn, 'typeNames') : (['csw:Record'] as TypeName[]);
      const esn = cswChild(query, 'ElementSetName');
      if (esn?.attrs['typeNames']) typeNamesAttr(esn, esn.attrs['typeNames'], 'typeNames');
      const names = cswChildren(query, 'ElementName').map((e) => e.text.trim()).filter(Boolean);
      // CSW 2.0.2 §10.8.4.9: ElementName and ElementSetName are mutually exclusive.
      if (esn && names.length > 0) throw new OgcError('InvalidParameterValue', 'ElementName and ElementSetName are mutually exclusive (CSW 2.0.2 §10.8.4.9)', 'ElementName');
      const constraintEl = cswChild(query, 'Constraint');
      const constraint = readConstraint(constraintEl);
      const filterEl = constraintEl?.children.find((k) => k.name === 'Filter');
      const sortBy = readSortBy(query.children.find((c) => c.name === 'SortBy' && isOgc(c)));
      return {
        op,
        resultType,
        outputSchema,
        outputFormat,
        startPosition,
        maxRecords,
        typeNames,
        elementSet: parseElementSet(esn?.text, 'summary'),
        elementNames: names.length ? names : undefined,
        constraint,
        ...(filterEl ? { constraintNames: filterPropertyNames(filterEl) } : {}),
        sortBy,
        requestId: root.attrs['requestId'],
        echo: serializeXml(root),
      };
    }
  }
}

/** A body that could not be parsed, as CSW reports it. */
export function cswXmlError(e: unknown): unknown {
  // OWS 1.0.0 (CSW 2.0.2) has no OperationParsingFailed: NoApplicableCode, as pycsw answers, with a 400.
  if (e instanceof XmlInputError) return new OgcError('NoApplicableCode', `Could not parse the request: ${e.message}`, 'request', 400);
  if (e instanceof XmlBusyError) return new OgcError('NoApplicableCode', e.message, 'request', 503);
  return e;
}
