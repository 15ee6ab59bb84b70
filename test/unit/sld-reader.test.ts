/**
 * The SLD reader (src/styles/sld-reader.ts): SLD 1.1.0 / SE 1.1 as QGIS 3.22 writes it and SLD 1.0.0 map onto the
 * style model; every element or parameter it does not read is reported by name and place, whatever it is; bad
 * documents are SldErrors naming what is wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSld, SldError } from '../../src/styles/sld-reader.js';
import { ROOT } from '../helpers.js';

const QGIS = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-qgis.sld'), 'utf8');

const v10 = (symbolizers: string, rule = '') =>
  `<sld:StyledLayerDescriptor version="1.0.0" xmlns:sld="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink">
   <sld:NamedLayer><sld:Name>sdi:communes_points</sld:Name><sld:UserStyle><sld:Name>pts</sld:Name><sld:Title>Points</sld:Title>
   <sld:FeatureTypeStyle><sld:Rule><sld:Name>r</sld:Name>${rule}${symbolizers}</sld:Rule></sld:FeatureTypeStyle></sld:UserStyle></sld:NamedLayer></sld:StyledLayerDescriptor>`;

describe('SLD 1.1.0 / SE 1.1 (QGIS 3.22 export)', () => {
  it('reads rules, filters, scale denominators, polygon and text symbolizers, with nothing left over', () => {
    const doc = readSld(QGIS);
    expect(doc.version).toBe('1.1.0');
    expect(doc.unsupported).toEqual([]);
    expect(doc.layers).toHaveLength(1);
    const [layer] = doc.layers;
    expect(layer!.layer).toBe('communes');
    const style = layer!.styles[0]!;
    expect(style.rules.map((r) => r.title)).toEqual(['Communes', 'Loiret', 'Orléans', '']);
    expect(style.rules[0]!.filter).toBeUndefined();
    expect(style.rules[2]!.filter).toEqual({ kind: 'compare', op: '=', left: { kind: 'property', name: 'code' }, right: { kind: 'literal', value: '45234' }, matchCase: true });
    expect(style.rules[1]!.filter!.kind).toBe('and');
    expect(style.rules[2]!.symbolizers[0]).toEqual({ kind: 'polygon', fill: { color: '#d7191c', opacity: 1 }, stroke: { color: '#000000', opacity: 1, width: 2, linejoin: 'bevel' } });
    const label = style.rules[3]!;
    expect([label.minScale, label.maxScale]).toEqual([1, 1000000]);
    expect(label.symbolizers[0]).toEqual({
      kind: 'text',
      label: [{ property: 'nom' }],
      font: { family: 'DejaVu Sans', size: 13, weight: 'normal', style: 'normal' },
      fill: { color: '#141414', opacity: 1 },
      halo: { radius: 2, fill: { color: '#ffffff', opacity: 1 } },
      anchor: [0.5, 0.5],
      displacement: [0, 0],
    });
  });
});

describe('SLD 1.0.0', () => {
  it('reads CssParameter, marks, ElseFilter and scale denominators', () => {
    const doc = readSld(
      v10(
        `<sld:MinScaleDenominator>1000</sld:MinScaleDenominator><sld:PointSymbolizer><sld:Graphic><sld:Mark><sld:WellKnownName>triangle</sld:WellKnownName>
         <sld:Fill><sld:CssParameter name="fill">#FF8800</sld:CssParameter><sld:CssParameter name="fill-opacity">0.5</sld:CssParameter></sld:Fill></sld:Mark>
         <sld:Size>10</sld:Size><sld:Rotation>45</sld:Rotation></sld:Graphic></sld:PointSymbolizer>`,
        '<sld:ElseFilter/>',
      ),
    );
    expect(doc.unsupported).toEqual([]);
    const r = doc.layers[0]!.styles[0]!.rules[0]!;
    expect(r.else).toBe(true);
    expect(r.minScale).toBe(1000);
    expect(r.symbolizers[0]).toEqual({ kind: 'point', mark: 'triangle', size: 10, rotation: 45, fill: { color: '#ff8800', opacity: 0.5 }, stroke: null });
  });

  it('reports each part it does not apply, by name and place: graphics, vendor options, expressions, units, unknown parameters', () => {
    const doc = readSld(
      v10(
        `<sld:PointSymbolizer uom="http://www.opengeospatial.org/se/units/metre"><sld:Graphic><sld:ExternalGraphic><sld:OnlineResource xlink:href="x.svg"/><sld:Format>image/svg+xml</sld:Format></sld:ExternalGraphic><sld:Size>4</sld:Size></sld:Graphic></sld:PointSymbolizer>
         <sld:LineSymbolizer><sld:Stroke><sld:CssParameter name="stroke"><ogc:Function name="env"><ogc:Literal>c</ogc:Literal></ogc:Function></sld:CssParameter><sld:CssParameter name="stroke-dashoffset">2</sld:CssParameter></sld:Stroke></sld:LineSymbolizer>
         <sld:RasterSymbolizer><sld:Opacity>1</sld:Opacity></sld:RasterSymbolizer>
         <sld:TextSymbolizer><sld:Label>x</sld:Label><sld:VendorOption name="group">yes</sld:VendorOption></sld:TextSymbolizer>`,
      ),
    );
    const at = 'sld:NamedLayer/sld:UserStyle/sld:FeatureTypeStyle/sld:Rule';
    expect(doc.unsupported).toEqual([
      `${at}/sld:PointSymbolizer/sld:Graphic/sld:ExternalGraphic`,
      `${at}/sld:PointSymbolizer@uom=http://www.opengeospatial.org/se/units/metre`,
      `${at}/sld:LineSymbolizer/sld:Stroke/sld:CssParameter[stroke]`,
      `${at}/sld:LineSymbolizer/sld:Stroke/sld:CssParameter[stroke-dashoffset]`,
      `${at}/sld:TextSymbolizer/sld:VendorOption[group]`,
    ]);
    // A RasterSymbolizer is read (raster layers' styles); its place is given so that a vector layer's caller reports it.
    expect(doc.rasterParts).toEqual([`${at}/sld:RasterSymbolizer`]);
  });

  it('refuses malformed or unreadable documents with a message saying what', () => {
    const cases: Array<[string, RegExp]> = [
      ['<sld:StyledLayerDescriptor', /not well-formed/],
      ['<!DOCTYPE a [<!ENTITY b "c">]><a/>', /DOCTYPE/],
      ['<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" version="1.0.0"/>', /no NamedLayer/],
      ['<x xmlns="http://www.opengis.net/sld" version="1.0.0"/>', /root element/],
      [QGIS.replace('version="1.1.0"', 'version="1.2.0"'), /version 1\.2\.0/],
      [QGIS.replace('>2</se:SvgParameter>', '>wide</se:SvgParameter>'), /rule Orléans: stroke-width: wide is not a number/],
      [QGIS.replace('<ogc:PropertyIsEqualTo>', '<ogc:PropertyIsSimilar>').replace('</ogc:PropertyIsEqualTo>', '</ogc:PropertyIsSimilar>'), /rule Orléans/],
      [v10('<sld:PolygonSymbolizer><sld:Fill><sld:CssParameter name="fill">#12345</sld:CssParameter></sld:Fill></sld:PolygonSymbolizer>'), /#12345 is not a #rrggbb colour/],
    ];
    for (const [xml, message] of cases) expect(() => readSld(xml)).toThrow(SldError), expect(() => readSld(xml)).toThrow(message);
  });
});
