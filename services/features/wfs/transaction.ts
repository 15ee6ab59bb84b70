/**
 * WFS-T: the Transaction operation (WFS 2.0 §15, WFS 1.1.0 §12), read from XML into edit operations
 * (src/edit/apply.ts applies them) and answered with a wfs:TransactionResponse of the request's version.
 *
 * Both versions are read on the one endpoint: QGIS sends WFS 1.1.0 Transaction XML even to a 2.0 server
 * (root {http://www.opengis.net/wfs}Transaction version="1.1.0", ogc:Filter/ogc:FeatureId/@fid, GML 3.1
 * geometries, Update wfs:Property/wfs:Name) and reads back wfs:TransactionSummary/totalInserted… and
 * wfs:InsertResults//ogc:FeatureId/@fid, so a 1.1.0 request gets a 1.1.0 answer (as GeoServer does).
 * WFS 2.0 requests use wfs:ValueReference and fes:ResourceId and get fes:ResourceId/@rid back. QGIS 3.22
 * (the version installed here) sends version="1.0.0" with GML 2 geometries even to a 2.0 server, and reads a
 * WFS 1.0.0 WFS_TransactionResponse (TransactionResult/Status/SUCCESS, InsertResult/ogc:FeatureId/@fid):
 * the same elements, so 1.0.0 is read the same way and answered in its own form.
 *
 * Insert, Update and Delete are supported; Replace and Native are refused (OperationNotSupported). An Update
 * without a filter (which would change every feature of the type) is refused: a filter is required.
 */
import type { Layer } from '../../../src/catalog/layers.js';
import type { EditOperation, EditOutcome, EditValue, FeatureValues } from '../../../src/edit/apply.js';
import { readFesFilter } from '../../../src/filter/fes-reader.js';
import { readGmlGeometry, isGmlElement, GML_GEOMETRY_NAMES } from '../../../src/filter/gml-geometry-reader.js';
import { child, resolveQName, type XmlElement } from '../../../src/xml/tree.js';
import { xmlEscape } from '../../../src/xml/escape.js';
import { NS } from '../../../src/xml/namespaces.js';
import { invalid, missing, notImplemented } from '../../../src/ogc/errors.js';
import { checkVersion, type TypeNameResolver } from './kvp-reader.js';
import type { TransactionRequest, WfsVersion } from './request.js';

/** Edit operations in one request: bounded, like queries (a QGIS session sends one Update per feature). */
export const MAX_TRANSACTION_ACTIONS = 10_000;

export function readTransaction(root: XmlElement, resolveType: TypeNameResolver, layers: Layer[]): TransactionRequest {
  const version = checkVersion(root.attrs['version'] ?? (root.ns === NS.wfs ? '1.1.0' : '2.0.0'));
  const layerOf = (el: XmlElement, qname: string | undefined, locator: string): Layer => {
    if (!qname) throw missing('typeName');
    const q = resolveQName(el, qname);
    const name = resolveType(q.prefix ? `${q.prefix}:${q.local}` : q.local, new Map([[q.prefix, q.ns]]));
    const layer = name ? layers.find((l) => l.name === name) : undefined;
    if (!layer) throw invalid(locator, `Unknown feature type ${qname.slice(0, 80)}`);
    return layer;
  };
  const operations: EditOperation[] = [];
  for (const action of root.children) {
    const srsName = action.attrs['srsName'];
    switch (action.name) {
      case 'Insert':
        for (const f of action.children) {
          const layer = layerOf(f, f.prefix ? `${f.prefix}:${f.name}` : f.name, 'Insert');
          operations.push({ op: 'insert', layer, values: featureValues(f, layer, srsName), id: f.attrs['id'] ?? f.attrs['fid'] });
        }
        break;
      case 'Update': {
        const layer = layerOf(action, action.attrs['typeName'] ?? action.attrs['typeNames'], 'Update');
        const values: FeatureValues = { properties: {} };
        for (const p of action.children.filter((c) => c.name === 'Property')) {
          const name = (child(p, 'ValueReference') ?? child(p, 'Name'))?.text.trim();
          if (!name) throw missing('ValueReference');
          const valueEl = child(p, 'Value');
          const isGeometry = layer.geometry && localName(name).toLowerCase() === layer.geometry.column.toLowerCase();
          if (isGeometry) values.geometry = valueEl ? geometryOf(valueEl, srsName, 'Update') : null;
          else values.properties[name] = valueEl ? scalarOf(valueEl) : null;
        }
        const filterEl = child(action, 'Filter');
        if (!filterEl) throw missing('Filter');
        operations.push({ op: 'update', layer, filter: readFesFilter(filterEl), values });
        break;
      }
      case 'Delete': {
        const layer = layerOf(action, action.attrs['typeName'] ?? action.attrs['typeNames'], 'Delete');
        const filterEl = child(action, 'Filter');
        if (!filterEl) throw missing('Filter');
        operations.push({ op: 'delete', layer, filter: readFesFilter(filterEl) });
        break;
      }
      case 'Replace':
      case 'Native':
        throw notImplemented('OperationNotSupported', `Transaction action ${action.name} is not supported (Insert, Update, Delete are)`, action.name);
      case 'LockId':
        break; // no locking: a lock id names nothing here (ImplementsLockingWFS is FALSE)
      default:
        throw invalid('Transaction', `Unexpected element ${action.name.slice(0, 40)} in Transaction`);
    }
    if (operations.length > MAX_TRANSACTION_ACTIONS) throw invalid('Transaction', `More than ${MAX_TRANSACTION_ACTIONS} actions in one Transaction`);
  }
  return { op: 'Transaction', version, operations };
}

const localName = (qname: string) => qname.slice(qname.lastIndexOf(':') + 1);

/** An inserted feature's properties: its child elements (gml:* properties such as boundedBy are not stored). */
function featureValues(f: XmlElement, layer: Layer, srsName: string | undefined): FeatureValues {
  const values: FeatureValues = { properties: {} };
  for (const p of f.children) {
    if (p.ns === NS.gml || p.ns === NS.gml32) continue;
    if (layer.geometry && p.name.toLowerCase() === layer.geometry.column.toLowerCase()) values.geometry = geometryOf(p, srsName, 'Insert');
    else values.properties[p.name] = scalarOf(p);
  }
  return values;
}

/** The GML geometry inside a property or wfs:Value element; empty = no geometry. */
function geometryOf(el: XmlElement, srsName: string | undefined, locator: string) {
  const g = el.children.find((c) => isGmlElement(c) && (GML_GEOMETRY_NAMES.has(c.name) || c.name === 'Envelope'));
  if (!g) {
    if (el.children.length || el.text.trim()) throw invalid(locator, 'The geometry property does not hold a GML geometry');
    return null;
  }
  return readGmlGeometry(g, srsName, locator);
}

function scalarOf(el: XmlElement): EditValue {
  if (el.attrs['nil'] === 'true') return null;
  if (el.children.length) throw invalid('Property', `Property ${el.name.slice(0, 40)} takes a simple value, not elements`);
  return el.text;
}

/** wfs:TransactionResponse (WFS 2.0 §15.3, wfs.xsd TransactionResponseType; WFS 1.1.0 §12.3). */
export function transactionResponse(version: WfsVersion, outcome: EditOutcome): string {
  const decl = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const rid = (id: string, layer: string) => xmlEscape(`${layer}.${id}`);
  if (version === '1.0.0') {
    // WFS 1.0.0 §12.3 (WFS-transaction.xsd WFS_TransactionResponseType): InsertResult*, then TransactionResult.
    let s = `${decl}<wfs:WFS_TransactionResponse version="1.0.0" xmlns:wfs="${NS.wfs}" xmlns:ogc="${NS.ogc}">`;
    if (outcome.inserted.length) s += `<wfs:InsertResult>${outcome.inserted.map((f) => `<ogc:FeatureId fid="${rid(f.id, f.layer)}"/>`).join('')}</wfs:InsertResult>`;
    return s + '<wfs:TransactionResult><wfs:Status><wfs:SUCCESS/></wfs:Status></wfs:TransactionResult></wfs:WFS_TransactionResponse>\n';
  }
  if (version === '1.1.0') {
    let s = `${decl}<wfs:TransactionResponse version="1.1.0" xmlns:wfs="${NS.wfs}" xmlns:ogc="${NS.ogc}">`;
    s += `<wfs:TransactionSummary><wfs:totalInserted>${outcome.inserted.length}</wfs:totalInserted><wfs:totalUpdated>${outcome.updated.length}</wfs:totalUpdated><wfs:totalDeleted>${outcome.deleted.length}</wfs:totalDeleted></wfs:TransactionSummary>`;
    if (outcome.inserted.length) s += `<wfs:InsertResults>${outcome.inserted.map((f) => `<wfs:Feature><ogc:FeatureId fid="${rid(f.id, f.layer)}"/></wfs:Feature>`).join('')}</wfs:InsertResults>`;
    return s + '</wfs:TransactionResponse>\n';
  }
  let s = `${decl}<wfs:TransactionResponse version="2.0.0" xmlns:wfs="${NS.wfs20}" xmlns:fes="${NS.fes20}">`;
  s += `<wfs:TransactionSummary><wfs:totalInserted>${outcome.inserted.length}</wfs:totalInserted><wfs:totalUpdated>${outcome.updated.length}</wfs:totalUpdated><wfs:totalReplaced>0</wfs:totalReplaced><wfs:totalDeleted>${outcome.deleted.length}</wfs:totalDeleted></wfs:TransactionSummary>`;
  if (outcome.inserted.length) s += `<wfs:InsertResults>${outcome.inserted.map((f) => `<wfs:Feature><fes:ResourceId rid="${rid(f.id, f.layer)}"/></wfs:Feature>`).join('')}</wfs:InsertResults>`;
  if (outcome.updated.length) s += `<wfs:UpdateResults>${outcome.updated.map((f) => `<wfs:Feature><fes:ResourceId rid="${rid(f.id, f.layer)}"/></wfs:Feature>`).join('')}</wfs:UpdateResults>`;
  return s + '</wfs:TransactionResponse>\n';
}
