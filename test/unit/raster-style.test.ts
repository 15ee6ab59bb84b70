/**
 * Issue 9, raster styles: the SLD reader reads a RasterSymbolizer (SLD 1.0 §11.6) as QGIS 3.22 exports a raster
 * layer's style (fixtures/styles/communes-densite-qgis.sld: SLD 1.0.0, a UserLayer without Name, an empty
 * FeatureTypeConstraint, Opacity, the grey channel of band 1, ColorMap type="ramp"), and reports by name what it
 * does not apply (QGIS's brightness VendorOption); colour maps of the three types colour values as documented in
 * src/render/raster-style.ts; the JSON form round-trips the open end of a discrete ramp (`inf`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSld, SldError } from '../../src/styles/sld-reader.js';
import { colorMapRgba, colouriseWithMap, entryLabel, rasterStyleFromJson, rasterStyleToJson, type ColorMap } from '../../src/render/raster-style.js';
import { readRasterStyleJson } from '../../src/styles/raster-json.js';
import { ROOT } from '../helpers.js';

const QGIS_RASTER = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-densite-qgis.sld'), 'utf8');

const raster = (body: string, colorMapAttrs = '') =>
  `<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" version="1.0.0"><NamedLayer><Name>communes_densite</Name><UserStyle><Name>s</Name>
   <FeatureTypeStyle><Rule><RasterSymbolizer>${body.replace('<ColorMap>', `<ColorMap${colorMapAttrs}>`)}</RasterSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`;

describe('SLD RasterSymbolizer (QGIS 3.22 raster export)', () => {
  it('reads opacity and the ColorMap ramp of the UserLayer; the brightness VendorOption is reported by name and place', () => {
    const doc = readSld(QGIS_RASTER);
    expect(doc.version).toBe('1.0.0');
    expect(doc.layers).toHaveLength(1);
    expect(doc.layers[0]!.layer).toBe('');
    expect(doc.layers[0]!.rasterStyles).toEqual([
      {
        name: 'communes_densite',
        title: 'communes_densite',
        opacity: 0.85,
        colorMap: {
          type: 'ramp',
          entries: [
            { quantity: 0, color: '#f7fbff', opacity: 1, label: '0' },
            { quantity: 100, color: '#6baed6', opacity: 1, label: '100' },
            { quantity: 1000, color: '#2171b5', opacity: 1, label: '1000' },
            { quantity: 4000, color: '#08306b', opacity: 1, label: '4000' },
          ],
        },
      },
    ]);
    expect(doc.unsupported).toEqual(['UserLayer/sld:UserStyle/sld:FeatureTypeStyle/sld:Rule/sld:RasterSymbolizer/sld:VendorOption[brightness]']);
    expect(doc.rasterParts).toEqual(['UserLayer/sld:UserStyle/sld:FeatureTypeStyle/sld:Rule/sld:RasterSymbolizer']);
  });

  it('intervals with QGIS\'s open end (inf), entry opacity, the rule\'s scale range; another band, contrast enhancement and a non-empty constraint are reported', () => {
    const doc = readSld(
      raster(
        `<Opacity>0.5</Opacity><ChannelSelection><GrayChannel><SourceChannelName>2</SourceChannelName></GrayChannel></ChannelSelection>
         <ColorMap><ColorMapEntry color="#FF0000" quantity="10" label="≤ 10"/><ColorMapEntry color="#00ff00" quantity="inf" opacity="0.4"/></ColorMap>
         <ContrastEnhancement><GammaValue>1.2</GammaValue></ContrastEnhancement>`,
        ' type="intervals" extended="true"',
      ).replace('<Rule>', '<Rule><MaxScaleDenominator>500000</MaxScaleDenominator>'),
    );
    const s = doc.layers[0]!.rasterStyles[0]!;
    expect(s).toMatchObject({ opacity: 0.5, maxScale: 500000, colorMap: { type: 'intervals' } });
    expect(s.colorMap!.entries).toEqual([
      { quantity: 10, color: '#ff0000', opacity: 1, label: '≤ 10' },
      { quantity: Infinity, color: '#00ff00', opacity: 0.4 },
    ]);
    const at = 'NamedLayer/UserStyle/FeatureTypeStyle/Rule/RasterSymbolizer';
    expect(doc.unsupported).toEqual([`${at}/ChannelSelection`, `${at}/ContrastEnhancement`]);
  });

  it('refuses a ColorMap of an unknown type, entries out of order, a bad colour or quantity, with a message saying what', () => {
    const cases: Array<[string, RegExp]> = [
      [raster('<ColorMap><ColorMapEntry color="#000000" quantity="1"/></ColorMap>', ' type="gradient"'), /ColorMap type gradient is not one of ramp, intervals, values$/],
      [raster('<ColorMap><ColorMapEntry color="#000000" quantity="5"/><ColorMapEntry color="#ffffff" quantity="1"/></ColorMap>'), /quantities must increase \(5 then 1\)/],
      [raster('<ColorMap><ColorMapEntry color="red" quantity="5"/></ColorMap>'), /ColorMapEntry 1 color: red is not a #rrggbb colour/],
      [raster('<ColorMap><ColorMapEntry color="#000000" quantity="x"/></ColorMap>'), /ColorMapEntry 1 quantity: x is not a number/],
      [raster('<Opacity>2</Opacity>'), /Opacity: 2 is not between 0 and 1/],
    ];
    for (const [xml, re] of cases) expect(() => readSld(xml), String(re)).toThrow(SldError), expect(() => readSld(xml)).toThrow(re);
  });
});

/** An SLD 1.1.0 / SE 1.1 raster style whose ColorMap holds `colorMap` (an SE function). */
const se11 = (colorMap: string) =>
  `<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" version="1.1.0"><NamedLayer><se:Name>communes_densite</se:Name>
   <UserStyle><se:Name>classes</se:Name><se:FeatureTypeStyle><se:Rule><se:RasterSymbolizer><se:Opacity>0.9</se:Opacity>
   <se:ColorMap>${colorMap}</se:ColorMap></se:RasterSymbolizer></se:Rule></se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`;

describe('SE 1.1 ColorMap functions: Categorize and Interpolate (OGC 05-077r4 §11.6.4, Symbolizer.xsd)', () => {
  // Part of the schema's own example (example-rastersymbolizer1.xml): Value, then Threshold/Value pairs.
  const categorize = (attrs = '') =>
    se11(`<se:Categorize fallbackValue="#78c818"${attrs}><se:LookupValue>Rasterdata</se:LookupValue>
      <se:Value>#00ff00</se:Value><se:Threshold>-1</se:Threshold><se:Value>#64f014</se:Value>
      <se:Threshold>0</se:Threshold><se:Value>#7deb32</se:Value><se:Threshold>30</se:Threshold><se:Value>#78c818</se:Value></se:Categorize>`);

  it('Categorize: thresholds belong to the succeeding interval by default (a value equal to a threshold takes the next colour)', () => {
    const doc = readSld(categorize());
    expect(doc.unsupported).toEqual([]);
    const s = doc.layers[0]!.rasterStyles[0]!;
    expect(s.opacity).toBe(0.9);
    const m = s.colorMap!;
    expect(m.type).toBe('categorize');
    expect(m.entries.map((e) => e.quantity)).toEqual([-Infinity, -1, 0, 30]);
    const rgb = (v: number) => colorMapRgba(m, v)?.slice(0, 3);
    expect(rgb(-5)).toEqual([0x00, 0xff, 0x00]);
    expect(rgb(-1)).toEqual([0x64, 0xf0, 0x14]);
    expect(rgb(-0.5)).toEqual([0x64, 0xf0, 0x14]);
    expect(rgb(0)).toEqual([0x7d, 0xeb, 0x32]);
    expect(rgb(29.9)).toEqual([0x7d, 0xeb, 0x32]);
    expect(rgb(30)).toEqual([0x78, 0xc8, 0x18]);
    expect(rgb(1e6)).toEqual([0x78, 0xc8, 0x18]);
    expect(m.entries.map((e) => entryLabel(m, e))).toEqual(['< -1', '≥ -1', '≥ 0', '≥ 30']);
  });

  it('Categorize with threshholdsBelongTo="preceding": a value equal to a threshold keeps the colour below it', () => {
    const m = readSld(categorize(' threshholdsBelongTo="preceding"')).layers[0]!.rasterStyles[0]!.colorMap!;
    const rgb = (v: number) => colorMapRgba(m, v)?.slice(0, 3);
    expect(rgb(-1)).toEqual([0x00, 0xff, 0x00]);
    expect(rgb(-0.5)).toEqual([0x64, 0xf0, 0x14]);
    expect(rgb(0)).toEqual([0x64, 0xf0, 0x14]);
    expect(rgb(30)).toEqual([0x7d, 0xeb, 0x32]);
    expect(rgb(31)).toEqual([0x78, 0xc8, 0x18]);
  });

  it('Interpolate (linear, color) is a ramp; a cosine mode is drawn linear and reported by name', () => {
    const xml = (mode: string) =>
      se11(`<se:Interpolate fallbackValue="#000000" method="color"${mode}><se:LookupValue>Rasterdata</se:LookupValue>
        <se:InterpolationPoint><se:Data>0</se:Data><se:Value>#000000</se:Value></se:InterpolationPoint>
        <se:InterpolationPoint><se:Data>100</se:Data><se:Value>#ffffff</se:Value></se:InterpolationPoint></se:Interpolate>`);
    const doc = readSld(xml(' mode="linear"'));
    expect(doc.unsupported).toEqual([]);
    const m = doc.layers[0]!.rasterStyles[0]!.colorMap!;
    expect(m.type).toBe('ramp');
    expect(colorMapRgba(m, 50)).toEqual([128, 128, 128, 255]);
    expect(colorMapRgba(m, -10)).toEqual([0, 0, 0, 255]);
    expect(readSld(xml(' mode="cosine"')).unsupported).toEqual(['NamedLayer/UserStyle/se:FeatureTypeStyle/se:Rule/se:RasterSymbolizer/se:ColorMap/se:Interpolate@mode=cosine']);
  });

  it('refuses what it cannot draw as written, saying where', () => {
    const cases: Array<[string, RegExp]> = [
      [se11('<se:Categorize><se:LookupValue>Rasterdata</se:LookupValue><se:Value>#000000</se:Value><se:Threshold>5</se:Threshold></se:Categorize>'), /Categorize has 1 Value and 1 Threshold/],
      [se11('<se:Categorize><se:LookupValue>Rasterdata</se:LookupValue><se:Value>#000000</se:Value><se:Threshold>5</se:Threshold><se:Value>#ffffff</se:Value><se:Threshold>5</se:Threshold><se:Value>#ffffff</se:Value></se:Categorize>'), /thresholds must increase \(5 then 5\)/],
      [se11('<se:Categorize threshholdsBelongTo="both"><se:LookupValue>Rasterdata</se:LookupValue><se:Value>#000000</se:Value></se:Categorize>'), /threshholdsBelongTo: both is not one of succeeding, preceding/],
      [se11('<se:Categorize><se:LookupValue>Rasterdata</se:LookupValue><se:Value><ogc:PropertyName xmlns:ogc="http://www.opengis.net/ogc">c</ogc:PropertyName></se:Value></se:Categorize>'), /only a literal value is read, not ogc:PropertyName/],
      [se11('<se:Interpolate method="numeric"><se:LookupValue>Rasterdata</se:LookupValue><se:InterpolationPoint><se:Data>0</se:Data><se:Value>1</se:Value></se:InterpolationPoint></se:Interpolate>'), /method numeric in a ColorMap must be color/],
      [se11('<se:Interpolate><se:LookupValue>Rasterdata</se:LookupValue><se:InterpolationPoint><se:Data>9</se:Data><se:Value>#000000</se:Value></se:InterpolationPoint><se:InterpolationPoint><se:Data>1</se:Data><se:Value>#000000</se:Value></se:InterpolationPoint></se:Interpolate>'), /Data must increase \(9 then 1\)/],
      [se11('<se:Interpolate><se:LookupValue>Rasterdata</se:LookupValue><se:InterpolationPoint><se:Data>0</se:Data><se:Value>blue</se:Value></se:InterpolationPoint></se:Interpolate>'), /InterpolationPoint 1 Value: blue is not a #rrggbb colour/],
    ];
    for (const [xml, re] of cases) expect(() => readSld(xml), String(re)).toThrow(re);
  });

  it('the JSON form carries a categorize map both ways ("-inf" below the first threshold)', () => {
    const style = readRasterStyleJson({ colorMap: { type: 'categorize', entries: [{ quantity: '-inf', color: '#000000' }, { quantity: 10, color: '#ffffff' }] } }, 'seuils');
    expect(colorMapRgba(style.colorMap!, 9)!.slice(0, 3)).toEqual([0, 0, 0]);
    expect(colorMapRgba(style.colorMap!, 10)!.slice(0, 3)).toEqual([255, 255, 255]);
    expect(rasterStyleFromJson(JSON.parse(JSON.stringify(rasterStyleToJson(style))))).toEqual(style);
  });
});

describe('colour maps (src/render/raster-style.ts)', () => {
  const entries = [
    { quantity: 0, color: '#000000', opacity: 1 },
    { quantity: 100, color: '#ffffff', opacity: 0.5 },
  ];
  it('ramp: interpolated between entries (colour and opacity), clamped to the first and last colours outside', () => {
    const m: ColorMap = { type: 'ramp', entries };
    expect(colorMapRgba(m, 50)).toEqual([128, 128, 128, 192]);
    expect(colorMapRgba(m, -5)).toEqual([0, 0, 0, 255]);
    expect(colorMapRgba(m, 500)).toEqual([255, 255, 255, 128]);
  });
  it('intervals: the first entry whose quantity is ≥ the value; nothing above the last', () => {
    const m: ColorMap = { type: 'intervals', entries };
    expect(colorMapRgba(m, 0)).toEqual([0, 0, 0, 255]);
    expect(colorMapRgba(m, 0.5)).toEqual([255, 255, 255, 128]);
    expect(colorMapRgba(m, 100)).toEqual([255, 255, 255, 128]);
    expect(colorMapRgba(m, 101)).toBeUndefined();
  });
  it('values: exact quantities only', () => {
    const m: ColorMap = { type: 'values', entries };
    expect(colorMapRgba(m, 100)).toEqual([255, 255, 255, 128]);
    expect(colorMapRgba(m, 99)).toBeUndefined();
  });
  it('a band: no-data (NaN) transparent, the style opacity applied to every pixel', () => {
    const rgba = colouriseWithMap({ width: 3, height: 1, values: Float32Array.from([NaN, 0, 0]) }, { type: 'ramp', entries }, 0.5);
    expect([...rgba]).toEqual([0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 128]);
  });
  it('JSON: "inf" for an open end, both ways; bad documents refused with a pointer', () => {
    const style = readRasterStyleJson({ opacity: 0.7, colorMap: { type: 'intervals', entries: [{ quantity: 1, color: '#ABCDEF' }, { quantity: 'inf', color: '#000000', label: '> 1' }] } }, 'classes');
    expect(style.colorMap!.entries[1]!.quantity).toBe(Infinity);
    expect(style.colorMap!.entries[0]!.color).toBe('#abcdef');
    const json = JSON.parse(JSON.stringify(rasterStyleToJson(style)));
    expect(json.colorMap.entries[1].quantity).toBe('inf');
    expect(rasterStyleFromJson(json)).toEqual(style);
    expect(() => readRasterStyleJson({ colorMap: { entries: [{ quantity: 2, color: '#000000' }, { quantity: 1, color: '#000000' }] } }, 'x')).toThrow(/increasing order/);
    expect(() => readRasterStyleJson({ opacity: 3 }, 'x')).toThrow(/\/opacity/);
    expect(() => readRasterStyleJson({ name: 'y' }, 'x')).toThrow(/differs from the name in the URL/);
  });
});
