/**
 * Profiles of the catalogue, as a deployment chooses (SDI_CSW_PROFILE, issue 12): what the capabilities,
 * DescribeRecord and GetDomain offer, and what GetRecords / GetRecordById accept.
 *
 *  - `dc`: a Dublin Core catalogue (CSW 2.0.2 alone): type name csw:Record, output schemas csw, DCAT, GeoDCAT-AP
 *    and Atom; no ISO type name, output schema, queryable or profile is advertised, and asking for gmd:MD_Metadata
 *    or the ISO output schema is an InvalidParameterValue (the capabilities do not offer them: OGC 07-006r1
 *    §10.8.4.x, a value outside the advertised domain); so is a filter or sort key on a queryable the catalogue
 *    does not advertise (an `apiso:` name, or an ISO queryable under any prefix), its locator the name as sent;
 *  - `iso`: CSW ISO AP 1.0 (OGC 07-045): gmd:MD_Metadata, the apiso: queryables (supported and additional);
 *  - `inspire`: ISO AP plus the INSPIRE discovery service (TG Discovery Services 3.1): the extended capabilities
 *    and the bare queryable names the INSPIRE validator compares.
 */
import type { CswProfile } from '../../../src/config/index.js';
import { invalid } from '../../../src/ogc/errors.js';
import { ATOM_NS, CSW_NS, DCAT_NS, GEODCAT_NS, GMD_NS, type CswRequest, type TypeName } from './request.js';
import type { HarvestRequest } from './harvest.js';
import { ADDITIONAL_QUERYABLES, DUBLIN_CORE_QUERYABLES, findQueryable, ISO_QUERYABLE_NAMES, SUPPORTED_ISO_QUERYABLES, type Queryable } from '../../../src/record-search/queryables.js';
import { mapFilterProperties, type Filter } from '../../../src/filter/ast.js';

export interface ProfileOffer {
  profile: CswProfile;
  typeNames: TypeName[];
  outputSchemas: string[];
  /** SupportedISOQueryables and AdditionalQueryables as advertised; undefined: none (Dublin Core catalogue). */
  isoQueryables?: { supported: string[]; additional: string[] };
  /** INSPIRE discovery extended capabilities. */
  inspire: boolean;
  transactionSchemas: string[];
  /** GetDomain PropertyName values advertised. */
  domainProperties: string[];
}

export function profileOffer(profile: CswProfile): ProfileOffer {
  if (profile === 'dc') {
    return {
      profile,
      typeNames: ['csw:Record'],
      outputSchemas: [CSW_NS, DCAT_NS, GEODCAT_NS, ATOM_NS],
      inspire: false,
      transactionSchemas: [CSW_NS],
      domainProperties: ['dc:type', 'dc:subject', 'dc:language', 'dc:format'],
    };
  }
  return {
    profile,
    typeNames: ['csw:Record', 'gmd:MD_Metadata'],
    outputSchemas: [CSW_NS, GMD_NS, DCAT_NS, GEODCAT_NS, ATOM_NS],
    isoQueryables:
      profile === 'inspire'
        ? ISO_QUERYABLE_NAMES
        : { supported: SUPPORTED_ISO_QUERYABLES.map((n) => `apiso:${n}`), additional: ADDITIONAL_QUERYABLES.map((n) => `apiso:${n}`) },
    inspire: profile === 'inspire',
    transactionSchemas: [CSW_NS, GMD_NS],
    domainProperties: ['Type', 'TopicCategory', 'Subject', 'Language', 'OrganisationName', 'Format', 'ServiceType', 'KeywordType', 'CRS'],
  };
}

/** The queryables a Dublin Core catalogue offers: CSW 2.0.2 Table 6 and the csw:Record elements it searches. */
const DUBLIN_CORE = new Set<Queryable>(DUBLIN_CORE_QUERYABLES.map((n) => findQueryable(n)!));

/**
 * Is this name one of the Dublin Core queryables (with any prefix but `apiso:`, as findQueryable reads names)?
 * An unknown name is left to the compiler, which refuses it as unknown.
 */
export function isDublinCoreQueryable(name: string): boolean {
  const q = findQueryable(name);
  return q === undefined || (!/^\s*"?apiso:/i.test(name) && DUBLIN_CORE.has(q));
}

/** Every property name a filter uses. */
function propertyNames(f: Filter): string[] {
  const out: string[] = [];
  mapFilterProperties(f, (name) => (out.push(name), name));
  return out;
}

/** A Dublin Core catalogue: a queryable it does not offer, in the constraint or a sort key, is refused. */
function checkDublinCoreNames(constraint: Filter | undefined, sortBy: readonly { name: string }[] | undefined, written: readonly string[] = []): void {
  for (const name of [...written, ...(constraint ? propertyNames(constraint) : []), ...(sortBy ?? []).map((k) => k.name)]) {
    if (!isDublinCoreQueryable(name)) {
      throw invalid(name.slice(0, 100), `'${name.slice(0, 100)}' is not a queryable of this Dublin Core catalogue (profile dc): ${DUBLIN_CORE_QUERYABLES.join(', ')}`);
    }
  }
}

/**
 * A request checked against the profile: a type name or output schema the profile does not offer is an
 * InvalidParameterValue, except in DescribeRecord, where a type name the catalogue does not know gets no schema
 * component (CSW 2.0.2 §10.6.4.3; the CSW 2.0.2 test suite, DescribeRecord-tc3.1).
 */
export function applyProfile<R extends CswRequest | HarvestRequest>(request: R, offer: ProfileOffer): R {
  if (offer.profile !== 'dc') return request;
  const gmdSchema = (s: string) => s === 'gmd';
  switch (request.op) {
    case 'GetRecords':
      if (request.typeNames.some((t) => !offer.typeNames.includes(t))) throw invalid('typeNames', `This catalogue serves Dublin Core records only: typeNames csw:Record (profile ${offer.profile})`);
      if (gmdSchema(request.outputSchema)) throw invalid('outputSchema', `This catalogue serves Dublin Core records only: outputSchema ${offer.outputSchemas.join(', ')}`);
      checkDublinCoreNames(request.constraint, request.sortBy, request.constraintNames);
      return request;
    case 'GetRecordById':
      if (gmdSchema(request.outputSchema)) throw invalid('outputSchema', `This catalogue serves Dublin Core records only: outputSchema ${offer.outputSchemas.join(', ')}`);
      return request;
    case 'DescribeRecord':
      return { ...request, typeNames: request.typeNames.filter((t) => offer.typeNames.includes(t)) };
    case 'Transaction':
      for (const a of request.actions) if (a.kind === 'delete') checkDublinCoreNames(a.constraint, undefined);
      return request;
    default:
      return request;
  }
}
