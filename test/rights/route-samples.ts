/**
 * The route samples of the rights walks (issue 11): one or more requests for every route Fastify knows, each with
 * what it must do for each caller (its kind), naming the restricted layer L. Shared by rights.test.ts (the route ×
 * caller table) and attack-walk.test.ts (hostile values in every parameter, oversized bodies).
 */
import { adminRights } from './admin-routes.js';

/**
 * What a route must do for each caller:
 *  list  — a listing: 200 for all; the restricted layer in it only for the two holders of a grant;
 *  data  — the layer itself: 2xx with the grant, whole or territorial; to anonymous and nogrant, exactly what the
 *          same request naming a layer that does not exist gets (no enumeration of restricted names);
 *  whole — the whole layer at once (Atom pre-defined file): as data, but 403 for the territorial user;
 *  admin — the administration API: 401 anonymous, 403 for every one of these (none is an administrator);
 *  other — no data of the layer: never a server error, never the layer's name in a 2xx to anonymous or nogrant.
 *  edit  — changes the layer (OGC API Features Part 4): 403 to the holders of other rights (they see the layer),
 *          and to anonymous and nogrant what an unknown layer gets.
 */
export type Kind = 'list' | 'data' | 'whole' | 'admin' | 'other' | 'edit';
export interface Sample {
  url: string;
  kind: Kind;
  payload?: string;
  type?: string;
}

export function samples(L: string, auth: string): Record<string, Sample[]> {
  const get = (url: string, kind: Kind): Sample => ({ url, kind });
  const post = (url: string, kind: Kind, payload: string, type = 'application/json'): Sample => ({ url, kind, payload, type });
  const bbox = 'BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64';
  const adminSamples: Record<string, Sample[]> = {};
  for (const [route, list] of Object.entries(adminRights(auth))) adminSamples[route] = list.map((s) => ({ url: s.url, kind: 'admin', payload: s.payload, type: s.headers?.['content-type'] }));
  const style = JSON.stringify({ rules: [{ symbolizers: [] }] });
  return {
    'GET /wfs': [
      get('/wfs?SERVICE=WFS&REQUEST=GetCapabilities', 'list'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=sdi:${L}`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${L}&COUNT=5`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESOURCEID=${L}.1`, 'other'),
      get(`/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=sdi:${L}&VALUEREFERENCE=nom&COUNT=5`, 'data'),
      get(`/wfs?SERVICE=WFS&VERSION=1.0.0&REQUEST=GetFeature&TYPENAME=${L}&MAXFEATURES=5`, 'data'),
    ],
    'POST /wfs': [post('/wfs', 'data', `<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0" count="5"><wfs:Query typeNames="sdi:${L}"/></wfs:GetFeature>`, 'application/xml')],
    'GET /ogcapi': [get('/ogcapi/', 'other')],
    'GET /ogcapi/conformance': [get('/ogcapi/conformance', 'other')],
    'GET /ogcapi/api': [get('/ogcapi/api', 'list')],
    'GET /ogcapi/collections': [get('/ogcapi/collections', 'list')],
    'GET /ogcapi/collections/:collectionId': [get(`/ogcapi/collections/${L}`, 'data')],
    'GET /ogcapi/collections/:collectionId/schema': [get(`/ogcapi/collections/${L}/schema`, 'data')],
    'GET /ogcapi/collections/:collectionId/queryables': [get(`/ogcapi/collections/${L}/queryables`, 'data')],
    'GET /ogcapi/collections/:collectionId/items': [get(`/ogcapi/collections/${L}/items?limit=5`, 'data')],
    'GET /ogcapi/collections/:collectionId/items/:featureId': [get(`/ogcapi/collections/${L}/items/1`, 'other')],
    'POST /ogcapi/collections/:collectionId/items': [post(`/ogcapi/collections/${L}/items`, 'edit', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PUT /ogcapi/collections/:collectionId/items/:featureId': [post(`/ogcapi/collections/${L}/items/1`, 'edit', JSON.stringify({ type: 'Feature', properties: { nom: 'x' }, geometry: null }), 'application/geo+json')],
    'PATCH /ogcapi/collections/:collectionId/items/:featureId': [post(`/ogcapi/collections/${L}/items/1`, 'edit', JSON.stringify({ properties: { nom: 'x' } }), 'application/merge-patch+json')],
    'DELETE /ogcapi/collections/:collectionId/items/:featureId': [get(`/ogcapi/collections/${L}/items/1`, 'edit')],
    'GET /csw': [get('/csw?service=CSW&version=2.0.2&request=GetCapabilities', 'other'), get('/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=brief', 'other')],
    'POST /csw': [post('/csw', 'other', `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" resultType="hits"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName></csw:Query></csw:GetRecords>`, 'application/xml')],
    'GET /csw/opensearch': [get('/csw/opensearch', 'other')],
    // Not searched by the layer's name: the feed echoes its query (its id and self link).
    'GET /csw/opensearch/search': [get('/csw/opensearch/search?q=restreint', 'other'), get('/csw/opensearch/search?bbox=1,47,3,49', 'other')],
    'GET /records': [get('/records/', 'other')],
    'GET /records/conformance': [get('/records/conformance', 'other')],
    'GET /records/api': [get('/records/api', 'other')],
    'GET /records/collections': [get('/records/collections', 'other')],
    'GET /records/collections/:collectionId': [get('/records/collections/metadata', 'other')],
    'GET /records/collections/:collectionId/queryables': [get('/records/collections/metadata/queryables', 'other')],
    'GET /records/collections/:collectionId/sortables': [get('/records/collections/metadata/sortables', 'other')],
    'GET /records/collections/:collectionId/items': [get('/records/collections/metadata/items?q=restreint', 'other'), get('/records/collections/metadata/items?bbox=1,47,3,49', 'other')],
    'GET /records/collections/:collectionId/items/:recordId': [get('/records/collections/metadata/items/none', 'other')],
    'GET /dcat': [get('/dcat/', 'other')],
    'GET /dcat/catalog.:ext': [get('/dcat/catalog.jsonld', 'other')],
    'GET /dcat/records/:id': [get('/dcat/records/none', 'other')],
    'GET /download': [get('/download/', 'list')],
    'GET /download/api': [get('/download/api', 'other')],
    'GET /download/estimate': [get(`/download/estimate?layer=${L}&format=gpkg`, 'data')],
    'POST /download/estimate': [post('/download/estimate', 'data', JSON.stringify({ layers: [L], format: 'gpkg' }))],
    'GET /download/extract': [get(`/download/extract?layer=${L}&format=geojson&commune=45234`, 'data')],
    'POST /download/extract': [post('/download/extract', 'data', JSON.stringify({ layers: [L], format: 'geojson', area: { commune: '45234' } }))],
    'POST /download/jobs': [post('/download/jobs', 'data', JSON.stringify({ layers: [L], format: 'gpkg' }))],
    'GET /download/jobs/:id': [get('/download/jobs/00000000-0000-4000-8000-000000000000', 'other')],
    'DELETE /download/jobs/:id': [get('/download/jobs/00000000-0000-4000-8000-000000000000', 'other')],
    'GET /download/files/:id': [get('/download/files/00000000-0000-4000-8000-000000000000?expires=1&signature=x', 'other')],
    'GET /download/atom': [get('/download/atom', 'list')],
    'GET /download/atom/service.xml': [get('/download/atom/service.xml', 'list')],
    'GET /download/atom/opensearch.xml': [get('/download/atom/opensearch.xml', 'list')],
    'GET /download/atom/search': [get(`/download/atom/search?q=restreint`, 'other')],
    'GET /download/atom/:file': [get(`/download/atom/${L}.xml`, 'data')],
    'GET /download/atom/files/:layer/:format/:crs': [get(`/download/atom/files/${L}/geojson/4326`, 'whole')],
    'GET /wms': [
      get('/wms?SERVICE=WMS&REQUEST=GetCapabilities', 'list'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${L}&STYLES=&CRS=EPSG:2154&${bbox}&FORMAT=image/png`, 'data'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=${L}&QUERY_LAYERS=${L}&STYLES=&CRS=EPSG:2154&${bbox}&FORMAT=image/png&INFO_FORMAT=application/json&I=32&J=32`, 'data'),
      get(`/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=${L}&FORMAT=image/png`, 'data'),
    ],
    'GET /admin': [get('/admin/', 'admin')],
    'GET /admin/openapi.json': [get('/admin/openapi.json', 'admin')],
    // OpenID Connect sign-in (not configured here: 404 for everyone; the flow itself is test/rights/oidc.test.ts).
    'GET /admin/auth/oidc/login': [get('/admin/auth/oidc/login', 'other')],
    'GET /admin/auth/oidc/callback': [get('/admin/auth/oidc/callback?code=x&state=y', 'other')],
    'POST /admin/auth/oidc/logout': [post('/admin/auth/oidc/logout', 'other', '')],
    'GET /admin/styles': [get('/admin/styles', 'admin')],
    'GET /admin/styles/:layer': [get(`/admin/styles/${L}`, 'admin')],
    'GET /admin/styles/:layer/:name': [get(`/admin/styles/${L}/x`, 'admin')],
    'PUT /admin/styles/:layer/:name': [post(`/admin/styles/${L}/x`, 'admin', style)],
    'DELETE /admin/styles/:layer/:name': [get(`/admin/styles/${L}/x`, 'admin')],
    'PUT /admin/styles/:layer/:name/default': [get(`/admin/styles/${L}/x/default`, 'admin')],
    'GET /admin/default-styles/:kind': [get('/admin/default-styles/polygon', 'admin')],
    'PUT /admin/default-styles/:kind': [post('/admin/default-styles/polygon', 'admin', style)],
    // Map viewer (static page and bundle: the layers come from the capabilities at run time).
    'GET /viewer': [get('/viewer', 'other')],
    'GET /viewer/favicon.svg': [get('/viewer/favicon.svg', 'other')],
    'GET /viewer/viewer.js': [get('/viewer/viewer.js', 'other')],
    'GET /viewer/viewer.css': [get('/viewer/viewer.css', 'other')],
    // Tiles: WMTS and vector tiles ask the same policy (a territorial tile is drawn for its holder, never cached).
    'GET /wmts': [
      get('/wmts?SERVICE=WMTS&REQUEST=GetCapabilities', 'list'),
      get(`/wmts?SERVICE=WMTS&VERSION=1.0.0&REQUEST=GetTile&LAYER=${L}&STYLE=default&TILEMATRIXSET=LAMB93_10cm&TILEMATRIX=8&TILEROW=36&TILECOL=6&FORMAT=image/png`, 'data'),
    ],
    'GET /wmts/1.0.0/WMTSCapabilities.xml': [get('/wmts/1.0.0/WMTSCapabilities.xml', 'list')],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:file': [get(`/wmts/1.0.0/${L}/default/LAMB93_10cm/8/36/6.png`, 'data')],
    'GET /wmts/1.0.0/:layer/:style/:set/:matrix/:row/:col/:j/:file': [get(`/wmts/1.0.0/${L}/default/LAMB93_10cm/8/36/6/10/10.json`, 'data')],
    'GET /ogcapi/tileMatrixSets': [get('/ogcapi/tileMatrixSets', 'other')],
    'GET /ogcapi/tileMatrixSets/:tileMatrixSetId': [get('/ogcapi/tileMatrixSets/WebMercatorQuad', 'other')],
    'GET /ogcapi/collections/:collectionId/tiles': [get(`/ogcapi/collections/${L}/tiles`, 'data')],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId': [get(`/ogcapi/collections/${L}/tiles/WebMercatorQuad`, 'data')],
    'GET /ogcapi/collections/:collectionId/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol': [get(`/ogcapi/collections/${L}/tiles/WebMercatorQuad/8/89/129`, 'data')],
    'GET /tiles/:layer/tilejson.json': [get(`/tiles/${L}/tilejson.json`, 'data')],
    'GET /tiles/:layer/style.json': [get(`/tiles/${L}/style.json`, 'data')],
    'GET /tiles/:layer/:z/:x/:file': [get(`/tiles/${L}/8/129/89.pbf`, 'data')],
    // Layer administration and imports (issue 10): administrators only.
    'GET /admin/layers': [get('/admin/layers', 'admin')],
    'POST /admin/layers': [post('/admin/layers', 'admin', JSON.stringify({ name: 'x', table: 'data.communes' }))],
    'GET /admin/layers/:name': [get(`/admin/layers/${L}`, 'admin')],
    'PATCH /admin/layers/:name': [post(`/admin/layers/${L}`, 'admin', JSON.stringify({ title: 'x' }))],
    'POST /admin/layers/:name/publish': [post(`/admin/layers/${L}/publish`, 'admin', '{}')],
    'POST /admin/layers/:name/unpublish': [post(`/admin/layers/${L}/unpublish`, 'admin', '{}')],
    'GET /admin/layers/:name/record': [get(`/admin/layers/${L}/record`, 'admin')],
    'PUT /admin/layers/:name/record': [post(`/admin/layers/${L}/record`, 'admin', '<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd"/>', 'application/xml')],
    'DELETE /admin/layers/:name/record': [get(`/admin/layers/${L}/record`, 'admin')],
    'DELETE /admin/layers/:name': [get(`/admin/layers/${L}`, 'admin')],
    'POST /admin/imports': [post('/admin/imports', 'admin', JSON.stringify({ url: 'https://example.org/x.gpkg' }))],
    'GET /admin/imports/:id': [get('/admin/imports/00000000-0000-4000-8000-000000000000', 'admin')],
    'DELETE /admin/imports/:id': [get('/admin/imports/00000000-0000-4000-8000-000000000000', 'admin')],
    'GET /admin/layer-versions/:layer': [get(`/admin/layer-versions/${L}`, 'admin')],
    'POST /admin/layer-versions/:layer/rollback': [post(`/admin/layer-versions/${L}/rollback`, 'admin', '{}')],
    'POST /admin/uploads': [get('/admin/uploads', 'admin')],
    'PATCH /admin/uploads/:id': [post('/admin/uploads/0123456789abcdef0123456789abcdef', 'admin', 'x', 'application/offset+octet-stream')],
    'DELETE /admin/uploads/:id': [get('/admin/uploads/0123456789abcdef0123456789abcdef', 'admin')],
    ...adminSamples,
    'GET /healthz': [get('/healthz', 'other')],
    'GET /readyz': [get('/readyz', 'other')],
    'GET /': [get('/', 'other')],
  };
}
