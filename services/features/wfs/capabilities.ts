/**
 * WFS GetCapabilities documents for 2.0.0 (OWS 1.1, FES 2.0), 1.1.0 (OWS 1.0, Filter 1.1) and 1.0.0.
 * Shapes follow what QGIS reads (see shared/research/wfs-wms.md §1.1.2): prefixed type names with their
 * namespace declared on the FeatureType, DefaultCRS in URN form, constraints with the literal TRUE,
 * CountDefault = the server's per-request cap, DCP hrefs without a query string.
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { crsUrn } from '../../../src/crs/identifiers.js';
import { layerExtentWgs84 } from '../../../src/catalog/extent.js';
import type { Layer } from '../../../src/catalog/layers.js';
import type { Bbox } from '../../../src/crs/registry.js';
import { ADVERTISED } from './output-formats.js';
import { operationUrl, type WfsContext } from './context.js';
import type { WfsVersion } from './request.js';
import { SUPPORTED_VERSIONS } from './request.js';
import { RESOLVE_VALUES } from './kvp-reader.js';
import { TEMPORAL_OPERATORS } from '../../../src/filter/ast.js';

const SPATIAL_OPS = ['BBOX', 'Equals', 'Disjoint', 'Intersects', 'Touches', 'Crosses', 'Within', 'Contains', 'Overlaps', 'DWithin', 'Beyond'];
const COMPARISON_OPS = ['PropertyIsEqualTo', 'PropertyIsNotEqualTo', 'PropertyIsLessThan', 'PropertyIsGreaterThan', 'PropertyIsLessThanOrEqualTo', 'PropertyIsGreaterThanOrEqualTo', 'PropertyIsLike', 'PropertyIsNull', 'PropertyIsNil', 'PropertyIsBetween'];
/** Filter 1.1.0 (filterCapabilities.xsd GeometryOperandType) names no multi-geometries: the ones of its list we read. */
const GEOMETRY_OPERANDS_11 = ['gml:Envelope', 'gml:Point', 'gml:LineString', 'gml:Polygon'];
const GEOMETRY_OPERANDS = ['gml:Envelope', 'gml:Point', 'gml:MultiPoint', 'gml:LineString', 'gml:MultiCurve', 'gml:Curve', 'gml:Polygon', 'gml:MultiSurface', 'gml:Surface', 'gml:LinearRing'];

export async function capabilities(ctx: WfsContext, version: WfsVersion): Promise<string> {
  const extents = await Promise.all(ctx.layers.map((l) => layerExtentWgs84(ctx.platform.pool, l)));
  if (version === '1.0.0') return capabilities10(ctx, extents);
  if (version === '1.1.0') return capabilities11(ctx, extents);
  return capabilities20(ctx, extents);
}

function keywords(list: string[], ows = 'ows'): string {
  return list.length ? `<${ows}:Keywords>${list.map((k) => `<${ows}:Keyword>${x(k)}</${ows}:Keyword>`).join('')}</${ows}:Keywords>` : '';
}

function serviceIdentification(ctx: WfsContext, versions: string[]): string {
  const s = ctx.platform.config.service;
  return (
    `<ows:ServiceIdentification><ows:Title>${x(s.title)}</ows:Title><ows:Abstract>${x(s.abstract)}</ows:Abstract>${keywords(s.keywords)}` +
    `<ows:ServiceType>WFS</ows:ServiceType>${versions.map((v) => `<ows:ServiceTypeVersion>${v}</ows:ServiceTypeVersion>`).join('')}` +
    `<ows:Fees>${x(s.fees)}</ows:Fees><ows:AccessConstraints>${x(s.accessConstraints)}</ows:AccessConstraints></ows:ServiceIdentification>`
  );
}

function serviceProvider(ctx: WfsContext): string {
  const s = ctx.platform.config.service;
  return (
    `<ows:ServiceProvider><ows:ProviderName>${x(s.providerName)}</ows:ProviderName>${s.providerSite ? `<ows:ProviderSite xlink:href="${x(s.providerSite)}"/>` : ''}` +
    `<ows:ServiceContact><ows:ContactInfo><ows:Address><ows:ElectronicMailAddress>${x(s.contactEmail)}</ows:ElectronicMailAddress></ows:Address></ows:ContactInfo></ows:ServiceContact></ows:ServiceProvider>`
  );
}

/**
 * One ows:Operation with GET and POST endpoints and its parameters' values: in OWS 1.1 (WFS 2.0) a DomainType
 * wraps them in ows:AllowedValues; in OWS 1.0 (WFS 1.1.0) the ows:Value elements are the Parameter's own children.
 */
function operation(ctx: WfsContext, name: string, params: Record<string, string[]> = {}, ows11 = true): string {
  const href = x(operationUrl(ctx));
  return `<ows:Operation name="${name}"><ows:DCP><ows:HTTP><ows:Get xlink:href="${href}"/><ows:Post xlink:href="${href}"/></ows:HTTP></ows:DCP>${parameters(params, ows11)}</ows:Operation>`;
}

function parameters(params: Record<string, string[]>, ows11: boolean): string {
  let s = '';
  for (const [p, v] of Object.entries(params)) {
    const values = v.map((e) => `<ows:Value>${x(e)}</ows:Value>`).join('');
    s += `<ows:Parameter name="${p}">${ows11 ? `<ows:AllowedValues>${values}</ows:AllowedValues>` : values}</ows:Parameter>`;
  }
  return s;
}

const constraint = (name: string, value: string, ns = 'ows') => `<${ns}:Constraint name="${name}"><ows:NoValues/><ows:DefaultValue>${value}</ows:DefaultValue></${ns}:Constraint>`;

/** Whether the caller may edit one of the layers it sees: Transaction is advertised to it only then (issue 11). */
function mayEdit(ctx: WfsContext): boolean {
  return ctx.layers.some((l) => ctx.platform.policy.decide(ctx.principal, l, 'edit').allowed);
}

/** Transaction is an XML-only operation: POST only. OWS 1.0 (WFS 1.1.0) lists a parameter's values without AllowedValues. */
function transactionOperation(ctx: WfsContext, params: Record<string, string[]>, ows11 = true): string {
  return `<ows:Operation name="Transaction"><ows:DCP><ows:HTTP><ows:Post xlink:href="${x(operationUrl(ctx))}"/></ows:HTTP></ows:DCP>${parameters(params, ows11)}</ows:Operation>`;
}

function bbox(b: Bbox | null): string {
  return b ? `<ows:WGS84BoundingBox><ows:LowerCorner>${b.minx} ${b.miny}</ows:LowerCorner><ows:UpperCorner>${b.maxx} ${b.maxy}</ows:UpperCorner></ows:WGS84BoundingBox>` : '';
}

function crsList(ctx: WfsContext, l: Layer): number[] {
  return ctx.platform.crs.layerCrs(l.geometry?.srid ?? l.defaultCrs, l.otherCrs);
}

function metadataUrl(ctx: WfsContext, l: Layer, version: WfsVersion): string {
  if (!l.metadataIdentifier) return '';
  const base = ctx.serviceUrl.replace(/\/wfs$/, '/csw');
  const href = `${base}?service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(l.metadataIdentifier)}`;
  return version === '2.0.0' ? `<wfs:MetadataURL xlink:href="${x(href)}"/>` : `<wfs:MetadataURL type="TC211" format="text/xml">${x(href)}</wfs:MetadataURL>`;
}

function capabilities20(ctx: WfsContext, extents: (Bbox | null)[]): string {
  const ns = ctx.platform.config.namespace;
  const cfg = ctx.platform.config.features;
  const formats = ADVERTISED['2.0.0'];
  const typeNames = ctx.layers.map((l) => `${ns.prefix}:${l.name}`);
  let s = XML_DECLARATION;
  s += `<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:${ns.prefix}="${x(ns.uri)}" xsi:schemaLocation="http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd">`;
  s += serviceIdentification(ctx, ['2.0.0']) + serviceProvider(ctx);
  s += '<ows:OperationsMetadata>';
  s += operation(ctx, 'GetCapabilities', { AcceptVersions: SUPPORTED_VERSIONS, AcceptFormats: ['text/xml'], Sections: ['ServiceIdentification', 'ServiceProvider', 'OperationsMetadata', 'FeatureTypeList', 'Filter_Capabilities'] });
  s += operation(ctx, 'DescribeFeatureType', { outputFormat: ['application/gml+xml; version=3.2', 'text/xml; subtype=gml/3.2.1', 'text/xml; subtype=gml/3.1.1'] });
  s += operation(ctx, 'GetFeature', { outputFormat: formats, resultType: ['results', 'hits'], resolve: RESOLVE_VALUES });
  s += operation(ctx, 'GetPropertyValue', { resolve: RESOLVE_VALUES });
  s += operation(ctx, 'ListStoredQueries');
  s += operation(ctx, 'DescribeStoredQueries');
  const editable = mayEdit(ctx);
  if (editable) s += transactionOperation(ctx, { inputFormat: ['application/gml+xml; version=3.2', 'text/xml; subtype=gml/3.1.1'], releaseAction: ['ALL'] });
  s += `<ows:Parameter name="version"><ows:AllowedValues><ows:Value>2.0.0</ows:Value><ows:Value>1.1.0</ows:Value><ows:Value>1.0.0</ows:Value></ows:AllowedValues></ows:Parameter>`;
  const wfsConstraints: Array<[string, string]> = [
    ['ImplementsBasicWFS', 'TRUE'],
    ['ImplementsTransactionalWFS', editable ? 'TRUE' : 'FALSE'],
    ['ImplementsLockingWFS', 'FALSE'],
    ['KVPEncoding', 'TRUE'],
    ['XMLEncoding', 'TRUE'],
    ['SOAPEncoding', 'FALSE'],
    ['ImplementsInheritance', 'FALSE'],
    ['ImplementsRemoteResolve', 'FALSE'],
    ['ImplementsResultPaging', 'TRUE'],
    ['ImplementsStandardJoins', 'FALSE'],
    ['ImplementsSpatialJoins', 'FALSE'],
    ['ImplementsTemporalJoins', 'FALSE'],
    ['ImplementsFeatureVersioning', 'FALSE'],
    ['ManageStoredQueries', 'FALSE'],
    ['PagingIsTransactionSafe', 'FALSE'],
  ];
  for (const [n, v] of wfsConstraints) s += constraint(n, v);
  s += constraint('CountDefault', String(cfg.maxFeatures));
  s += `<ows:Constraint name="QueryExpressions"><ows:AllowedValues><ows:Value>wfs:Query</ows:Value><ows:Value>wfs:StoredQuery</ows:Value></ows:AllowedValues></ows:Constraint>`;
  s += '</ows:OperationsMetadata>';
  s += '<wfs:FeatureTypeList>';
  ctx.layers.forEach((l, i) => {
    const crs = crsList(ctx, l);
    s += `<wfs:FeatureType xmlns:${ns.prefix}="${x(ns.uri)}"><wfs:Name>${x(typeNames[i])}</wfs:Name><wfs:Title>${x(l.title)}</wfs:Title>`;
    if (l.abstract) s += `<wfs:Abstract>${x(l.abstract)}</wfs:Abstract>`;
    s += keywords(l.keywords);
    s += `<wfs:DefaultCRS>${crsUrn(crs[0]!)}</wfs:DefaultCRS>${crs.slice(1).map((c) => `<wfs:OtherCRS>${crsUrn(c)}</wfs:OtherCRS>`).join('')}`;
    s += `<wfs:OutputFormats>${formats.map((f) => `<wfs:Format>${x(f)}</wfs:Format>`).join('')}</wfs:OutputFormats>`;
    s += bbox(extents[i] ?? null) + metadataUrl(ctx, l, '2.0.0') + '</wfs:FeatureType>';
  });
  s += '</wfs:FeatureTypeList>';
  s += '<fes:Filter_Capabilities><fes:Conformance>';
  const fes: Array<[string, string]> = [
    ['ImplementsQuery', 'TRUE'],
    ['ImplementsAdHocQuery', 'TRUE'],
    ['ImplementsFunctions', 'FALSE'],
    ['ImplementsResourceId', 'TRUE'],
    ['ImplementsMinStandardFilter', 'TRUE'],
    ['ImplementsStandardFilter', 'TRUE'],
    ['ImplementsMinSpatialFilter', 'TRUE'],
    ['ImplementsSpatialFilter', 'TRUE'],
    ['ImplementsMinTemporalFilter', 'TRUE'],
    ['ImplementsTemporalFilter', 'FALSE'],
    ['ImplementsVersionNav', 'FALSE'],
    ['ImplementsSorting', 'TRUE'],
    ['ImplementsExtendedOperators', 'FALSE'],
    ['ImplementsMinimumXPath', 'TRUE'],
    ['ImplementsSchemaElementFunc', 'FALSE'],
  ];
  for (const [n, v] of fes) s += constraint(n, v, 'fes');
  s += '</fes:Conformance>';
  s += '<fes:Id_Capabilities><fes:ResourceIdentifier name="fes:ResourceId"/></fes:Id_Capabilities>';
  s += '<fes:Scalar_Capabilities><fes:LogicalOperators/><fes:ComparisonOperators>';
  s += COMPARISON_OPS.map((o) => `<fes:ComparisonOperator name="${o}"/>`).join('');
  s += '</fes:ComparisonOperators></fes:Scalar_Capabilities>';
  s += `<fes:Spatial_Capabilities><fes:GeometryOperands>${GEOMETRY_OPERANDS.map((g) => `<fes:GeometryOperand name="${g}"/>`).join('')}</fes:GeometryOperands>`;
  s += `<fes:SpatialOperators>${SPATIAL_OPS.map((o) => `<fes:SpatialOperator name="${o}"/>`).join('')}</fes:SpatialOperators></fes:Spatial_Capabilities>`;
  // FES 2.0 §7.9, Table 1: During is the minimum temporal filter; the operators below are evaluated on date
  // and timestamp properties (the rest need period-valued properties, so ImplementsTemporalFilter stays FALSE).
  s += '<fes:Temporal_Capabilities><fes:TemporalOperands><fes:TemporalOperand name="gml:TimeInstant"/><fes:TemporalOperand name="gml:TimePeriod"/></fes:TemporalOperands>';
  // AnyInteracts is evaluated but not listed: the FES 2.0.0 schema's TemporalOperatorNameType lacks it (an
  // erratum: fes:AnyInteracts is an element of temporal.xsd), and the capabilities must validate.
  s += `<fes:TemporalOperators>${TEMPORAL_OPERATORS.filter((o) => o !== 'AnyInteracts').map((o) => `<fes:TemporalOperator name="${o}"/>`).join('')}</fes:TemporalOperators></fes:Temporal_Capabilities>`;
  s += '</fes:Filter_Capabilities></wfs:WFS_Capabilities>\n';
  return s;
}

function capabilities11(ctx: WfsContext, extents: (Bbox | null)[]): string {
  const ns = ctx.platform.config.namespace;
  const formats = ADVERTISED['1.1.0'];
  let s = XML_DECLARATION;
  s += `<wfs:WFS_Capabilities version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" xmlns:ows="http://www.opengis.net/ows" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:${ns.prefix}="${x(ns.uri)}" xsi:schemaLocation="http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.1.0/wfs.xsd">`;
  s += serviceIdentification(ctx, ['1.1.0']) + serviceProvider(ctx);
  s += '<ows:OperationsMetadata>';
  s += operation(ctx, 'GetCapabilities', { AcceptVersions: SUPPORTED_VERSIONS }, false);
  s += operation(ctx, 'DescribeFeatureType', { outputFormat: ['text/xml; subtype=gml/3.1.1'] }, false);
  s += operation(ctx, 'GetFeature', { resultType: ['results', 'hits'], outputFormat: formats }, false);
  if (mayEdit(ctx)) s += transactionOperation(ctx, { inputFormat: ['text/xml; subtype=gml/3.1.1'], idgen: ['GenerateNew'] }, false);
  s += `<ows:Constraint name="DefaultMaxFeatures"><ows:Value>${ctx.platform.config.features.maxFeatures}</ows:Value></ows:Constraint>`;
  s += '</ows:OperationsMetadata><wfs:FeatureTypeList><wfs:Operations><wfs:Operation>Query</wfs:Operation></wfs:Operations>';
  ctx.layers.forEach((l, i) => {
    const crs = crsList(ctx, l);
    s += `<wfs:FeatureType xmlns:${ns.prefix}="${x(ns.uri)}"><wfs:Name>${ns.prefix}:${x(l.name)}</wfs:Name><wfs:Title>${x(l.title)}</wfs:Title><wfs:Abstract>${x(l.abstract)}</wfs:Abstract>${keywords(l.keywords)}`;
    s += `<wfs:DefaultSRS>${crsUrn(crs[0]!)}</wfs:DefaultSRS>${crs.slice(1).map((c) => `<wfs:OtherSRS>${crsUrn(c)}</wfs:OtherSRS>`).join('')}`;
    // WFS 1.1.0 §13.3.2: a type's own Operations replace the global list; QGIS reads them to enable editing.
    if (ctx.platform.policy.decide(ctx.principal, l, 'edit').allowed) s += '<wfs:Operations>' + ['Query', 'Insert', 'Update', 'Delete'].map((o) => `<wfs:Operation>${o}</wfs:Operation>`).join('') + '</wfs:Operations>';
    s += `<wfs:OutputFormats>${formats.map((f) => `<wfs:Format>${x(f)}</wfs:Format>`).join('')}</wfs:OutputFormats>`;
    s += bbox(extents[i] ?? null) + metadataUrl(ctx, l, '1.1.0') + '</wfs:FeatureType>';
  });
  s += '</wfs:FeatureTypeList>';
  s += '<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>';
  s += GEOMETRY_OPERANDS_11.map((g) => `<ogc:GeometryOperand>${g}</ogc:GeometryOperand>`).join('');
  s += `</ogc:GeometryOperands><ogc:SpatialOperators>${SPATIAL_OPS.map((o) => `<ogc:SpatialOperator name="${o}"/>`).join('')}</ogc:SpatialOperators></ogc:Spatial_Capabilities>`;
  s += '<ogc:Scalar_Capabilities><ogc:LogicalOperators/><ogc:ComparisonOperators>';
  s += ['LessThan', 'GreaterThan', 'LessThanEqualTo', 'GreaterThanEqualTo', 'EqualTo', 'NotEqualTo', 'Like', 'Between', 'NullCheck'].map((o) => `<ogc:ComparisonOperator>${o}</ogc:ComparisonOperator>`).join('');
  s += '</ogc:ComparisonOperators><ogc:ArithmeticOperators><ogc:SimpleArithmetic/></ogc:ArithmeticOperators></ogc:Scalar_Capabilities>';
  s += '<ogc:Id_Capabilities><ogc:EID/><ogc:FID/></ogc:Id_Capabilities></ogc:Filter_Capabilities></wfs:WFS_Capabilities>\n';
  return s;
}

function capabilities10(ctx: WfsContext, extents: (Bbox | null)[]): string {
  const ns = ctx.platform.config.namespace;
  const svc = ctx.platform.config.service;
  const href = x(ctx.urlToken ? `${operationUrl(ctx)}&` : `${ctx.serviceUrl}?`);
  const dcp = `<DCPType><HTTP><Get onlineResource="${href}"/></HTTP></DCPType><DCPType><HTTP><Post onlineResource="${x(operationUrl(ctx))}"/></HTTP></DCPType>`;
  let s = XML_DECLARATION;
  s += `<WFS_Capabilities version="1.0.0" xmlns="http://www.opengis.net/wfs" xmlns:ogc="http://www.opengis.net/ogc" xmlns:${ns.prefix}="${x(ns.uri)}">`;
  s += `<Service><Name>WFS</Name><Title>${x(svc.title)}</Title><Abstract>${x(svc.abstract)}</Abstract><Keywords>${x(svc.keywords.join(', '))}</Keywords><OnlineResource>${x(ctx.serviceUrl)}</OnlineResource><Fees>${x(svc.fees)}</Fees><AccessConstraints>${x(svc.accessConstraints)}</AccessConstraints></Service>`;
  s += `<Capability><Request><GetCapabilities>${dcp}</GetCapabilities><DescribeFeatureType><SchemaDescriptionLanguage><XMLSCHEMA/></SchemaDescriptionLanguage>${dcp}</DescribeFeatureType>`;
  // Transaction (POST only) to a caller who may edit, with the editable types' own Operations (WFS 1.0.0 §13.2.3).
  if (mayEdit(ctx)) s += `<Transaction><DCPType><HTTP><Post onlineResource="${x(operationUrl(ctx))}"/></HTTP></DCPType></Transaction>`;
  // WFS-capabilities.xsd 1.0.0 knows GML2 only as a result format (GML3 output is still served when asked for).
  s += `<GetFeature><ResultFormat><GML2/></ResultFormat>${dcp}</GetFeature></Request></Capability>`;
  s += '<FeatureTypeList><Operations><Query/></Operations>';
  ctx.layers.forEach((l, i) => {
    const b = extents[i];
    s += `<FeatureType><Name>${ns.prefix}:${x(l.name)}</Name><Title>${x(l.title)}</Title><Abstract>${x(l.abstract)}</Abstract><Keywords>${x(l.keywords.join(', '))}</Keywords><SRS>EPSG:${l.geometry?.srid ?? l.defaultCrs}</SRS>`;
    if (ctx.platform.policy.decide(ctx.principal, l, 'edit').allowed) s += '<Operations><Query/><Insert/><Update/><Delete/></Operations>';
    if (b) s += `<LatLongBoundingBox minx="${b.minx}" miny="${b.miny}" maxx="${b.maxx}" maxy="${b.maxy}"/>`;
    s += '</FeatureType>';
  });
  s += '</FeatureTypeList><ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:Spatial_Operators>';
  s += '<ogc:BBOX/><ogc:Equals/><ogc:Disjoint/><ogc:Intersect/><ogc:Touches/><ogc:Crosses/><ogc:Within/><ogc:Contains/><ogc:Overlaps/><ogc:DWithin/><ogc:Beyond/>';
  s += '</ogc:Spatial_Operators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:Logical_Operators/><ogc:Comparison_Operators><ogc:Simple_Comparisons/><ogc:Like/><ogc:Between/><ogc:NullCheck/></ogc:Comparison_Operators><ogc:Arithmetic_Operators><ogc:Simple_Arithmetic/></ogc:Arithmetic_Operators></ogc:Scalar_Capabilities></ogc:Filter_Capabilities>';
  s += '</WFS_Capabilities>\n';
  return s;
}
