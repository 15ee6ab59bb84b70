/** WFS DescribeFeatureType: the application schema of the requested (or all) types. */
import { applicationSchema } from '../../../src/formats/gml/schema.js';
import { invalid } from '../../../src/ogc/errors.js';
import type { GmlVersion } from '../../../src/formats/gml/feature.js';
import type { WfsContext } from './context.js';
import type { DescribeFeatureTypeRequest } from './request.js';

export function describeFeatureType(ctx: WfsContext, req: DescribeFeatureTypeRequest): { contentType: string; body: string } {
  const layers = req.typeNames.length ? ctx.layers.filter((l) => req.typeNames.includes(l.name)) : ctx.layers;
  const f = (req.outputFormat ?? '').toLowerCase().replace(/[\s+]/g, '');
  let version: GmlVersion = req.version === '2.0.0' ? '3.2' : req.version === '1.1.0' ? '3.1.1' : '2';
  if (f) {
    if (f.includes('3.2')) version = '3.2';
    else if (f.includes('3.1') || f === 'gml3') version = '3.1.1';
    else if (f.includes('2.1') || f === 'xmlschema' || f === 'gml2') version = '2';
    else if (f !== 'text/xml' && f !== 'application/gmlxml') throw invalid('outputFormat', `Output format ${req.outputFormat} is not supported for DescribeFeatureType`);
  }
  const contentType = version === '3.2' ? 'application/gml+xml; version=3.2' : version === '3.1.1' ? 'text/xml; subtype=gml/3.1.1' : 'text/xml; subtype=gml/2.1.2';
  return { contentType, body: applicationSchema(layers, ctx.platform.config.namespace, version) };
}
