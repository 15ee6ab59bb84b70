/**
 * CSW 2.0.2 GetCapabilities (OWS 1.0.0), with the ISO AP 1.0 queryable constraints and the INSPIRE
 * discovery service extended capabilities (TG Discovery Services, scenario 2: the metadata elements in the
 * capabilities). What the clients read from it (shared/research/csw.md §0.1, §0.12): absolute DCP hrefs
 * (public URL behind a proxy), outputSchema with gmd, typeNames, CONSTRAINTLANGUAGE FILTER and CQL_TEXT,
 * SupportedISOQueryables and AdditionalQueryables (apiso: names, and the bare names the INSPIRE validator compares),
 * supported/response languages, the filter functions with their arity.
 */
import { inspireExtendedCapabilitiesXml } from '../../../src/ogc/inspire.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { invalid } from '../../../src/ogc/errors.js';
import { DUBLIN_CORE_QUERYABLES } from '../../../src/record-search/queryables.js';
import { profileOffer } from './profile.js';
import { FILTER_FUNCTIONS } from '../../../src/record-search/functions.js';
import { withCatalogueRead, type CswContext } from './context.js';
import { catalogueSummary } from '../../../src/records/repository.js';
import { CSW_NS, GMD_NS, type GetCapabilitiesRequest } from './request.js';
import { HARVEST_RESOURCE_TYPES } from './harvest.js';

export const SUPPORTED_LANGUAGES = ['fre', 'eng'];
export const DEFAULT_LANGUAGE = 'fre';

const SECTIONS = ['ServiceIdentification', 'ServiceProvider', 'OperationsMetadata', 'Filter_Capabilities'];

const values = (vs: string[]) => vs.map((v) => `<ows:Value>${x(v)}</ows:Value>`).join('');
const parameter = (name: string, vs: string[]) => `<ows:Parameter name="${name}">${values(vs)}</ows:Parameter>`;
const constraint = (name: string, vs: string[]) => `<ows:Constraint name="${name}">${values(vs)}</ows:Constraint>`;

function operation(ctx: CswContext, name: string, body: string): string {
  const href = x(ctx.serviceUrl);
  return `<ows:Operation name="${name}"><ows:DCP><ows:HTTP><ows:Get xlink:href="${href}"/><ows:Post xlink:href="${href}"/></ows:HTTP></ows:DCP>${body}${constraint('PostEncoding', ['XML'])}</ows:Operation>`;
}

/** ISO 639-2/B language of the response: the requested one when supported, else the default. */
export function responseLanguage(requested: string | undefined): string {
  const r = requested?.trim().toLowerCase();
  return r && SUPPORTED_LANGUAGES.includes(r) ? r : DEFAULT_LANGUAGE;
}

export async function capabilities(ctx: CswContext, req: GetCapabilitiesRequest): Promise<string> {
  const wanted = new Set((req.sections ?? ['All']).map((s) => s.toLowerCase()));
  const all = wanted.has('all');
  for (const s of wanted) {
    if (s !== 'all' && !SECTIONS.some((k) => k.toLowerCase() === s)) {
      throw invalid('sections', `Unknown section '${s.slice(0, 50)}' (sections: ${SECTIONS.join(', ')})`);
    }
  }
  const has = (s: string) => all || wanted.has(s.toLowerCase());
  const svc = ctx.platform.config.service;
  const lang = responseLanguage(req.language);
  const lastChange = await catalogueDate(ctx);

  let s = XML_DECLARATION;
  s +=
    `<csw:Capabilities version="2.0.2" xmlns:csw="${CSW_NS}" xmlns:ows="http://www.opengis.net/ows" xmlns:ogc="http://www.opengis.net/ogc" ` +
    `xmlns:gml="http://www.opengis.net/gml" xmlns:gmd="${GMD_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xmlns:inspire_ds="http://inspire.ec.europa.eu/schemas/inspire_ds/1.0" xmlns:inspire_common="http://inspire.ec.europa.eu/schemas/common/1.0" ` +
    `xsi:schemaLocation="${CSW_NS} http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd http://inspire.ec.europa.eu/schemas/inspire_ds/1.0 http://inspire.ec.europa.eu/schemas/inspire_ds/1.0/inspire_ds.xsd">`;

  if (has('ServiceIdentification')) {
    const keywords = [...svc.keywords.filter((k) => !/^(WFS|OGC API Features)$/i.test(k)), 'CSW', 'catalogue', 'infoCatalogueService'];
    s +=
      `<ows:ServiceIdentification><ows:Title>${x(svc.title)} — catalogue</ows:Title><ows:Abstract>${x(svc.abstract)}</ows:Abstract>` +
      `<ows:Keywords>${keywords.map((k) => `<ows:Keyword>${x(k)}</ows:Keyword>`).join('')}</ows:Keywords>` +
      `<ows:ServiceType>CSW</ows:ServiceType><ows:ServiceTypeVersion>2.0.2</ows:ServiceTypeVersion>` +
      `<ows:Fees>${x(svc.fees)}</ows:Fees><ows:AccessConstraints>${x(svc.accessConstraints)}</ows:AccessConstraints></ows:ServiceIdentification>`;
  }
  if (has('ServiceProvider')) {
    s +=
      `<ows:ServiceProvider><ows:ProviderName>${x(svc.providerName)}</ows:ProviderName>${svc.providerSite ? `<ows:ProviderSite xlink:href="${x(svc.providerSite)}"/>` : ''}` +
      `<ows:ServiceContact><ows:ContactInfo><ows:Address><ows:ElectronicMailAddress>${x(svc.contactEmail)}</ows:ElectronicMailAddress></ows:Address></ows:ContactInfo><ows:Role>pointOfContact</ows:Role></ows:ServiceContact></ows:ServiceProvider>`;
  }
  if (has('OperationsMetadata')) {
    // What the deployment's profile offers (SDI_CSW_PROFILE, csw/profile.ts): a Dublin Core catalogue advertises
    // no ISO type name, output schema or queryable; ISO AP adds them; INSPIRE adds the discovery extension.
    const offer = profileOffer(ctx.platform.config.catalogue.profile);
    const schemas = offer.outputSchemas;
    const typeNames = offer.typeNames;
    s += '<ows:OperationsMetadata>';
    s += operation(ctx, 'GetCapabilities', parameter('sections', SECTIONS));
    s += operation(ctx, 'DescribeRecord', parameter('typeName', typeNames) + parameter('outputFormat', ['application/xml']) + parameter('schemaLanguage', ['http://www.w3.org/XML/Schema']));
    s += operation(
      ctx,
      'GetRecords',
      parameter('resultType', ['hits', 'results', 'validate']) +
        parameter('outputFormat', ['application/xml']) +
        parameter('outputSchema', schemas) +
        parameter('typeNames', typeNames) +
        parameter('CONSTRAINTLANGUAGE', ['FILTER', 'CQL_TEXT']) +
        parameter('ElementSetName', ['brief', 'summary', 'full']) +
        (offer.isoQueryables ? constraint('SupportedISOQueryables', offer.isoQueryables.supported) + constraint('AdditionalQueryables', offer.isoQueryables.additional) : '') +
        constraint('SupportedDublinCoreQueryables', DUBLIN_CORE_QUERYABLES) +
        constraint('MaxRecordDefault', [String(ctx.limits.maxRecords)]),
    );
    s += operation(ctx, 'GetRecordById', parameter('outputSchema', schemas) + parameter('outputFormat', ['application/xml']) + parameter('ElementSetName', ['brief', 'summary', 'full']));
    s += operation(ctx, 'GetDomain', parameter('ParameterName', DOMAIN_PARAMETERS) + parameter('PropertyName', offer.domainProperties));
    // CSW-T: XML POST only, for the administrator (services/catalogue/csw/transaction.ts).
    s += `<ows:Operation name="Transaction"><ows:DCP><ows:HTTP><ows:Post xlink:href="${x(ctx.serviceUrl)}"/></ows:HTTP></ows:DCP>${parameter('TransactionSchemas', offer.transactionSchemas)}${constraint('PostEncoding', ['XML'])}</ows:Operation>`;
    // Harvest (synchronous, administrator only): services/catalogue/csw/harvest.ts.
    s += operation(ctx, 'Harvest', parameter('ResourceType', HARVEST_RESOURCE_TYPES) + parameter('ResourceFormat', ['application/xml']));
    s += parameter('service', ['CSW']) + parameter('version', ['2.0.2']);
    if (offer.isoQueryables) s += constraint('IsoProfiles', [GMD_NS]);
    if (offer.inspire) s += inspireExtendedCapabilities(ctx, lang, lastChange);
    s += '</ows:OperationsMetadata>';
  }
  // Required by csw:CapabilitiesType whatever the sections asked.
  s += FILTER_CAPABILITIES;
  s += '</csw:Capabilities>\n';
  return s;
}

let cachedDate: { value: string; at: number } | undefined;

/** Date of the last change to the catalogue (INSPIRE MetadataDate / DateOfLastRevision), cached a minute. */
async function catalogueDate(ctx: CswContext): Promise<string> {
  if (cachedDate && Date.now() - cachedDate.at < 60_000) return cachedDate.value;
  const value = await withCatalogueRead(ctx, async (c) => (await catalogueSummary(c)).modified ?? new Date().toISOString().slice(0, 10));
  cachedDate = { value, at: Date.now() };
  return value;
}

export const DOMAIN_PARAMETERS = [
  'GetRecords.resultType',
  'GetRecords.outputFormat',
  'GetRecords.outputSchema',
  'GetRecords.typeNames',
  'GetRecords.CONSTRAINTLANGUAGE',
  'GetRecords.ElementSetName',
  'GetRecordById.outputSchema',
  'GetRecordById.outputFormat',
  'GetRecordById.ElementSetName',
  'DescribeRecord.typeName',
  'DescribeRecord.outputFormat',
  'DescribeRecord.schemaLanguage',
  'GetCapabilities.sections',
  'Transaction.TransactionSchemas',
  'Harvest.ResourceType',
  'Harvest.ResourceFormat',
];

function inspireExtendedCapabilities(ctx: CswContext, lang: string, date: string): string {
  const svc = ctx.platform.config.service;
  return inspireExtendedCapabilitiesXml({
    prefix: 'inspire_ds',
    capabilitiesUrl: `${ctx.serviceUrl}?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetCapabilities`,
    date,
    serviceType: 'discovery',
    keyword: 'infoCatalogueService',
    providerName: svc.providerName,
    contactEmail: svc.contactEmail,
    defaultLanguage: DEFAULT_LANGUAGE,
    languages: SUPPORTED_LANGUAGES,
    responseLanguage: lang,
  });
}

const SPATIAL_OPERATORS = ['BBOX', 'Equals', 'Disjoint', 'Intersects', 'Touches', 'Crosses', 'Within', 'Contains', 'Overlaps', 'Beyond', 'DWithin'];
const COMPARISON_OPERATORS = ['EqualTo', 'NotEqualTo', 'LessThan', 'GreaterThan', 'LessThanEqualTo', 'GreaterThanEqualTo', 'Like', 'Between', 'NullCheck'];
const GEOMETRY_OPERANDS = ['gml:Envelope', 'gml:Point', 'gml:LineString', 'gml:Polygon'];

const FILTER_CAPABILITIES =
  '<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>' +
  GEOMETRY_OPERANDS.map((g) => `<ogc:GeometryOperand>${g}</ogc:GeometryOperand>`).join('') +
  '</ogc:GeometryOperands><ogc:SpatialOperators>' +
  SPATIAL_OPERATORS.map((o) => `<ogc:SpatialOperator name="${o}"/>`).join('') +
  '</ogc:SpatialOperators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:LogicalOperators/><ogc:ComparisonOperators>' +
  COMPARISON_OPERATORS.map((o) => `<ogc:ComparisonOperator>${o}</ogc:ComparisonOperator>`).join('') +
  '</ogc:ComparisonOperators>' +
  // Filter 1.1 §12 / filterCapabilities.xsd: the functions evaluated in filters (services/catalogue/csw/functions.ts).
  '<ogc:ArithmeticOperators><ogc:Functions><ogc:FunctionNames>' +
  FILTER_FUNCTIONS.map((f) => `<ogc:FunctionName nArgs="${f.arity}">${f.name}</ogc:FunctionName>`).join('') +
  '</ogc:FunctionNames></ogc:Functions></ogc:ArithmeticOperators></ogc:Scalar_Capabilities><ogc:Id_Capabilities><ogc:EID/><ogc:FID/></ogc:Id_Capabilities></ogc:Filter_Capabilities>';
