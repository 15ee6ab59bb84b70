/**
 * The distributions a layer's record links (issue 12): the download service's whole-layer files (the
 * pre-defined files of its INSPIRE Atom feeds, built once per version of the layer and streamed whole, whatever
 * its size), each with the media type the URL answers with, and the EU file-type vocabulary term DCAT's
 * dct:format wants.
 */

/**
 * The whole-layer files a vector layer's record links: GeoPackage and Shapefile in the layer's own CRS,
 * GeoJSON in WGS 84 (what GeoJSON readers expect). All are among the files its Atom dataset feed offers
 * (services/download/atom.ts, formats of src/download/formats.ts; this module does not import them: the download
 * module already depends on this one's folder). The media type is the one the file route answers with (a
 * multi-file format comes zipped); test/catalogue/csw-links.test.ts fetches each and compares.
 */
export const WHOLE_LAYER_FILES: ReadonlyArray<{ format: 'gpkg' | 'shp' | 'geojson'; title: string; mediaType: string; extension: string; srid: 'own' | number }> = [
  { format: 'gpkg', title: 'GeoPackage', mediaType: 'application/geopackage+sqlite3', extension: 'gpkg', srid: 'own' },
  { format: 'shp', title: 'ESRI Shapefile (zip)', mediaType: 'application/zip', extension: 'zip', srid: 'own' },
  { format: 'geojson', title: 'GeoJSON', mediaType: 'application/geo+json', extension: 'geojson', srid: 4326 },
];

/** URL of a pre-defined file: the whole layer in one format and CRS (services/download/atom.ts serves it). */
export const wholeLayerFileUrl = (base: string, layerName: string, format: string, srid: number) =>
  `${base}/download/atom/files/${encodeURIComponent(layerName)}/${format}/${srid}`;

export interface WholeLayerFile {
  url: string;
  title: string;
  srid: number;
  /** What the URL answers with. */
  mediaType: string;
  /** File name a client saves it under. */
  fileName: string;
}

export function wholeLayerFiles(base: string, layerName: string, ownSrid: number): WholeLayerFile[] {
  return WHOLE_LAYER_FILES.map((f) => {
    const srid = f.srid === 'own' ? ownSrid : f.srid;
    return { url: wholeLayerFileUrl(base, layerName, f.format, srid), title: f.title, srid, mediaType: f.mediaType, fileName: `${layerName}.${f.extension}` };
  });
}

/**
 * The whole-raster files a raster layer's record links: GeoTIFF and Cloud Optimized GeoTIFF in the raster's own
 * CRS, the files its Atom dataset feed offers (services/download/atom.ts, ATOM_FORMATS.raster), with the media
 * types src/download/formats.ts gives them.
 */
export const WHOLE_RASTER_FILES: ReadonlyArray<{ format: 'gtiff' | 'cog'; title: string; mediaType: string; extension: string }> = [
  { format: 'gtiff', title: 'GeoTIFF', mediaType: 'image/tiff; application=geotiff', extension: 'tif' },
  { format: 'cog', title: 'Cloud Optimized GeoTIFF', mediaType: 'image/tiff; application=geotiff; profile=cloud-optimized', extension: 'tif' },
];

export function wholeRasterFiles(base: string, layerName: string, srid: number): WholeLayerFile[] {
  return WHOLE_RASTER_FILES.map((f) => ({ url: wholeLayerFileUrl(base, layerName, f.format, srid), title: f.title, srid, mediaType: f.mediaType, fileName: `${layerName}${f.format === 'cog' ? '.cog' : ''}.${f.extension}` }));
}

/** EU Publications Office file-type authority table (http://publications.europa.eu/resource/authority/file-type). */
export const EU_FILE_TYPE = 'http://publications.europa.eu/resource/authority/file-type/';

const FILE_TYPES: Array<[RegExp, string]> = [
  [/^application\/geopackage\+sqlite3/, 'GPKG'],
  [/^application\/geo\+json/, 'GEOJSON'],
  [/^application\/gml\+xml/, 'GML'],
  [/^application\/vnd\.google-earth\.kml\+xml/, 'KML'],
  [/^application\/atom\+xml/, 'ATOM'],
  [/^application\/flatgeobuf/, 'FLATGEOBUF'],
  [/^image\/tiff;.*application=geotiff/, 'GEOTIFF'],
  [/^image\/tiff/, 'TIFF'],
  [/^text\/csv/, 'CSV'],
  [/^application\/json/, 'JSON'],
  [/^application\/(rdf\+)?xml|^text\/xml/, 'XML'],
  [/^text\/html/, 'HTML'],
  [/^application\/pdf/, 'PDF'],
];

/**
 * The EU file-type term of a distribution from its media type; a zip is a Shapefile when its name or
 * description says so (the Shapefile has no registered media type: it is delivered as application/zip).
 */
export function euFileType(mediaType: string | undefined, hint = ''): string | undefined {
  if (!mediaType) return undefined;
  const t = mediaType.trim().toLowerCase();
  if (t.startsWith('application/zip')) return `${EU_FILE_TYPE}${/shape ?file|\.shp\b|esri/i.test(hint) ? 'SHP' : 'ZIP'}`;
  const code = FILE_TYPES.find(([re]) => re.test(t))?.[1];
  return code ? `${EU_FILE_TYPE}${code}` : undefined;
}
