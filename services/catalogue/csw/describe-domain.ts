/**
 * DescribeRecord (the XML Schema of csw:Record and gmd:MD_Metadata, by reference to the official schemas)
 * and GetDomain (allowed values of request parameters; distinct stored values of a queryable).
 */
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { OgcError } from '../../../src/ogc/errors.js';
import { findQueryable } from '../../../src/record-search/queryables.js';
import { DOMAIN_PARAMETERS } from './capabilities.js';
import { HARVEST_RESOURCE_TYPES } from './harvest.js';
import { isDublinCoreQueryable, profileOffer, type ProfileOffer } from './profile.js';
import { withCatalogueRead, type CswContext } from './context.js';
import { domainValues } from '../../../src/records/repository.js';
import { ATOM_NS, CSW_NS, DCAT_NS, GEODCAT_NS, GMD_NS, type DescribeRecordRequest, type GetDomainRequest } from './request.js';

const SCHEMA_LOCATION = `${CSW_NS} http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd`;
const XS = 'http://www.w3.org/XML/Schema';

export function describeRecord(req: DescribeRecordRequest): string {
  const components = [...new Set(req.typeNames)].map((t) =>
    t === 'csw:Record'
      ? `<csw:SchemaComponent schemaLanguage="${XS}" targetNamespace="${CSW_NS}"><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${CSW_NS}" elementFormDefault="qualified" version="2.0.2"><xs:include schemaLocation="http://schemas.opengis.net/csw/2.0.2/record.xsd"/></xs:schema></csw:SchemaComponent>`
      : `<csw:SchemaComponent schemaLanguage="${XS}" targetNamespace="${GMD_NS}"><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${GMD_NS}" elementFormDefault="qualified" version="2012-07-13"><xs:include schemaLocation="http://schemas.opengis.net/iso/19139/20070417/gmd/gmd.xsd"/></xs:schema></csw:SchemaComponent>`,
  );
  return (
    XML_DECLARATION +
    `<csw:DescribeRecordResponse xmlns:csw="${CSW_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${SCHEMA_LOCATION}">` +
    components.join('') +
    '</csw:DescribeRecordResponse>\n'
  );
}

const PARAMETER_VALUES: Record<string, string[]> = {
  'getrecords.resulttype': ['hits', 'results', 'validate'],
  'getrecords.outputformat': ['application/xml'],
  'getrecords.outputschema': [CSW_NS, GMD_NS, DCAT_NS, GEODCAT_NS, ATOM_NS],
  'getrecords.typenames': ['csw:Record', 'gmd:MD_Metadata'],
  'getrecords.constraintlanguage': ['FILTER', 'CQL_TEXT'],
  'getrecords.elementsetname': ['brief', 'summary', 'full'],
  'getrecordbyid.outputschema': [CSW_NS, GMD_NS, DCAT_NS, GEODCAT_NS, ATOM_NS],
  'getrecordbyid.outputformat': ['application/xml'],
  'getrecordbyid.elementsetname': ['brief', 'summary', 'full'],
  'describerecord.typename': ['csw:Record', 'gmd:MD_Metadata'],
  'describerecord.outputformat': ['application/xml'],
  'describerecord.schemalanguage': [XS],
  'getcapabilities.sections': ['ServiceIdentification', 'ServiceProvider', 'OperationsMetadata', 'Filter_Capabilities'],
  'transaction.transactionschemas': [CSW_NS, GMD_NS],
  'harvest.resourcetype': HARVEST_RESOURCE_TYPES,
  'harvest.resourceformat': ['application/xml'],
};
// Keep the advertised list and the answers in step.
for (const p of DOMAIN_PARAMETERS) if (!PARAMETER_VALUES[p.toLowerCase()]) throw new Error(`GetDomain parameter ${p} has no values`);

const MAX_DOMAIN_VALUES = 1000;

const listOfValues = (vs: string[]) => (vs.length ? `<csw:ListOfValues>${vs.map((v) => `<csw:Value>${x(v)}</csw:Value>`).join('')}</csw:ListOfValues>` : '');

/** The values of a parameter as the profile offers them (csw/profile.ts): the capabilities list the same. */
function profileValues(name: string, offer: ProfileOffer): string[] | undefined {
  const vs = PARAMETER_VALUES[name];
  if (!vs) return undefined;
  if (/\.outputschema$/.test(name)) return offer.outputSchemas;
  if (name === 'getrecords.typenames' || name === 'describerecord.typename') return offer.typeNames;
  if (name === 'transaction.transactionschemas') return offer.transactionSchemas;
  return vs;
}

export async function getDomain(ctx: CswContext, req: GetDomainRequest): Promise<string> {
  const parts: string[] = [];
  const offer = profileOffer(ctx.platform.config.catalogue.profile);
  for (const p of req.parameterNames) {
    const vs = profileValues(p.toLowerCase(), offer);
    if (!vs) throw new OgcError('InvalidParameterValue', `Unknown parameter '${p.slice(0, 100)}' (known: ${DOMAIN_PARAMETERS.join(', ')})`, 'ParameterName');
    parts.push(`<csw:DomainValues type="csw:Record"><csw:ParameterName>${x(p)}</csw:ParameterName>${listOfValues(vs)}</csw:DomainValues>`);
  }
  for (const name of req.propertyNames) {
    const q = findQueryable(name);
    if (!q) throw new OgcError('InvalidParameterValue', `Unknown queryable '${name.slice(0, 100)}'`, 'PropertyName');
    // A Dublin Core catalogue offers the Dublin Core queryables only (csw/profile.ts).
    if (!offer.isoQueryables && !isDublinCoreQueryable(name)) {
      throw new OgcError('InvalidParameterValue', `'${name.slice(0, 100)}' is not a Dublin Core queryable of this catalogue`, 'PropertyName');
    }
    let multiValued: boolean;
    switch (q.kind) {
      case 'anytext':
      case 'geometry':
        throw new OgcError('InvalidParameterValue', `${q.name} has no list of values`, 'PropertyName');
      case 'texts':
      case 'dates':
      case 'integers':
      case 'numbers':
        multiValued = true;
        break;
      default:
        multiValued = false;
    }
    const values = await withCatalogueRead(ctx, (c) => domainValues(c, q.sql, multiValued, MAX_DOMAIN_VALUES, [...(ctx.hiddenRecords ?? [])]));
    parts.push(`<csw:DomainValues type="csw:Record"><csw:PropertyName>${x(name)}</csw:PropertyName>${listOfValues(values)}</csw:DomainValues>`);
  }
  return XML_DECLARATION + `<csw:GetDomainResponse xmlns:csw="${CSW_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${SCHEMA_LOCATION}">${parts.join('')}</csw:GetDomainResponse>\n`;
}
