/** WFS 2.0 GetPropertyValue: the values of one property of the selected features, as a wfs:ValueCollection. */
import { Readable } from 'node:stream';
import { invalid, fromDatabaseError } from '../../../src/ogc/errors.js';
import { columnRef, resolveProperty } from '../../../src/db/identifiers.js';
import { compileCount, compileSelect } from '../../../src/query/compile.js';
import { FeatureSession } from '../../../src/query/cursor.js';
import { coordinateDecimals, encodeTarget, geometryExpression } from '../../../src/formats/target.js';
import { xmlEscape as x, XML_DECLARATION } from '../../../src/xml/escape.js';
import { planQuery, type StreamedResponse } from './get-feature.js';
import { numberGeometryIds } from '../../../src/formats/gml/feature.js';
import { rowsToBuffer } from '../../../src/formats/chunk.js';
import type { WfsContext } from './context.js';
import type { GetPropertyValueRequest } from './request.js';

export async function getPropertyValue(ctx: WfsContext, req: GetPropertyValueRequest): Promise<StreamedResponse> {
  const cfg = ctx.platform.config.features;
  const layer = ctx.layers.find((l) => l.name === req.query.typeNames[0]);
  if (!layer) throw invalid('typeNames', 'Unknown feature type');
  const lastStep = req.valueReference.trim().replace(/^.*\//, '');
  // The properties inherited from gml:AbstractFeatureType (ISO 19142 §7.9.2.4.1): @gml:id is the feature's id,
  // gml:boundedBy its envelope; gml:name, gml:description and gml:identifier are not stored (no value to return).
  const gml = /^(@gml:id|gml:name|gml:description|gml:identifier|gml:boundedBy)$/.exec(lastStep)?.[1];
  const column = gml ? undefined : resolveProperty(layer, lastStep);
  if (!column && !gml) throw invalid('valueReference', `Unknown property '${req.valueReference}' for ${layer.name}`);
  if (gml === 'gml:boundedBy' && !layer.geometry) throw invalid('valueReference', `${layer.name} has no geometry, hence no gml:boundedBy`);
  if (req.startIndex > cfg.maxStartIndex) throw invalid('STARTINDEX', `STARTINDEX exceeds the maximum of ${cfg.maxStartIndex}`);
  const plan = planQuery(ctx, layer, req.query, req.version);
  plan.offset = req.startIndex;
  plan.limit = Math.min(req.count ?? cfg.maxFeatures, cfg.maxFeatures);
  const isGeom = column !== undefined && column === layer.geometry?.column;
  const noValues = gml === 'gml:name' || gml === 'gml:description' || gml === 'gml:identifier';
  const session = await FeatureSession.open(ctx.platform.pool, cfg.statementTimeoutMs);
  try {
    const opts = { crs: ctx.platform.crs };
    const matched = await session.count(compileCount(plan, opts));
    const returned = req.resultType === 'hits' || noValues ? 0 : Math.max(0, Math.min(plan.limit, matched - plan.offset));
    const ns = ctx.platform.config.namespace;
    const head =
      XML_DECLARATION +
      `<wfs:ValueCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:${ns.prefix}="${x(ns.uri)}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
      `xsi:schemaLocation="http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd http://www.opengis.net/gml/3.2 http://schemas.opengis.net/gml/3.2.1/gml.xsd" ` +
      `timeStamp="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" numberMatched="${matched}" numberReturned="${returned}"`;
    if (req.resultType === 'hits' || noValues) {
      await session.close();
      return { status: 200, contentType: 'text/xml; charset=utf-8', body: head + '/>\n' };
    }
    const t = encodeTarget(plan, { prefix: ns.prefix, idPrefix: `${layer.name}.`, axisOrder: 'crs' });
    const stmt = compileSelect(plan, opts, (params) => {
      if (isGeom) return `'<wfs:member>' || COALESCE(ST_AsGML(3, ${geometryExpression(t, params)}, ${coordinateDecimals(plan.outputCrs.srid)}, 5, 'gml', ${params.add(`${layer.name}.`, 'text')} || ${columnRef(layer.idColumn)}::text || '.geom'), '') || '</wfs:member>'`;
      // gml:Envelope of the geometry in the output CRS, axes already in the CRS's order by the target (ST_AsGML
      // options 1: URN srsName, 4: no srsDimension, 32: the box).
      if (gml === 'gml:boundedBy') return `'<wfs:member>' || COALESCE(ST_AsGML(3, ${geometryExpression(t, params)}, ${coordinateDecimals(plan.outputCrs.srid)}, 37, 'gml'), '') || '</wfs:member>'`;
      const value = gml === '@gml:id' ? `${params.add(`${layer.name}.`, 'text')} || ${columnRef(layer.idColumn)}::text` : columnRef(column!);
      return `'<wfs:member>' || COALESCE(xmlelement(name x, ${value})::text, '<x/>') || '</wfs:member>'`;
    });
    const { first, rest } = await session.rows(stmt);
    // xmlelement gives <x>value</x>: keep only the escaped value.
    const strip = (s: string) => (isGeom ? numberGeometryIds(s) : s.replace(/<x>|<\/x>|<x\/>/g, ''));
    async function* body(): AsyncGenerator<string | Buffer> {
      yield head + '>';
      if (first.length) yield rowsToBuffer(first.map(strip));
      for await (const b of rest) yield rowsToBuffer(b.map(strip));
      yield '</wfs:ValueCollection>\n';
    }
    return { status: 200, contentType: 'text/xml; charset=utf-8', body: Readable.from(session.closeAfter(body())), release: () => session.close(false) };
  } catch (e) {
    await session.close(false);
    throw fromDatabaseError(e);
  }
}
