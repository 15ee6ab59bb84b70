/**
 * Output formats of the download service: what a client may ask for (id, aliases, media types), which GDAL
 * driver writes it, and how it is packaged (one file, or several files zipped: Shapefile, MapInfo TAB).
 * GeoJSON and CSV of a single layer are streamed straight from PostGIS by the feature encoders; every
 * other format is written by GDAL (gdal-async) from the extracted rows.
 */
export type VectorFormatId = 'gpkg' | 'shp' | 'geojson' | 'csv' | 'kml' | 'gml' | 'fgb' | 'tab';
export type RasterFormatId = 'gtiff' | 'cog';
export type FormatId = VectorFormatId | RasterFormatId;

export interface OutputFormat {
  id: FormatId;
  kind: 'vector' | 'raster';
  title: string;
  /** GDAL driver short name. */
  driver: string;
  /** Extension of the main file. */
  extension: string;
  mediaType: string;
  /** The driver writes several files (zip them even for a single layer). */
  multiFile: boolean;
  /** Dataset / layer creation options given to GDAL. */
  datasetOptions: string[];
  layerOptions: string[];
  /** Only a few CRSs make sense (KML: WGS 84 only). */
  fixedSrid?: number;
  /** Accepted spellings besides the id (case-insensitive). */
  aliases: string[];
  /** Rough bytes per byte of WKB+attributes, for the size estimate. */
  sizeFactor: number;
}

const f = (o: OutputFormat) => o;

export const FORMATS: readonly OutputFormat[] = [
  f({ id: 'gpkg', kind: 'vector', title: 'GeoPackage', driver: 'GPKG', extension: 'gpkg', mediaType: 'application/geopackage+sqlite3', multiFile: false, datasetOptions: [], layerOptions: ['SPATIAL_INDEX=YES'], aliases: ['geopackage', 'application/geopackage+sqlite3'], sizeFactor: 1.3 }),
  // ENCODING=UTF-8 writes the .cpg; the .prj is written by GDAL as ESRI WKT, which QGIS matches to the EPSG code.
  f({ id: 'shp', kind: 'vector', title: 'ESRI Shapefile (zip)', driver: 'ESRI Shapefile', extension: 'shp', mediaType: 'application/x-shapefile', multiFile: true, datasetOptions: [], layerOptions: ['ENCODING=UTF-8', 'SPATIAL_INDEX=YES'], aliases: ['shapefile', 'shape', 'shape-zip', 'esri shapefile', 'application/x-shapefile', 'application/zip'], sizeFactor: 1.4 }),
  f({ id: 'geojson', kind: 'vector', title: 'GeoJSON', driver: 'GeoJSON', extension: 'geojson', mediaType: 'application/geo+json', multiFile: false, datasetOptions: [], layerOptions: ['RFC7946=NO', 'WRITE_NAME=NO'], aliases: ['json', 'application/geo+json', 'application/json'], sizeFactor: 2.4 }),
  f({ id: 'csv', kind: 'vector', title: 'CSV (WKT geometry)', driver: 'CSV', extension: 'csv', mediaType: 'text/csv', multiFile: false, datasetOptions: [], layerOptions: ['GEOMETRY=AS_WKT', 'CREATE_CSVT=NO', 'SEPARATOR=COMMA', 'LINEFORMAT=CRLF'], aliases: ['text/csv'], sizeFactor: 2.2 }),
  f({ id: 'kml', kind: 'vector', title: 'KML', driver: 'KML', extension: 'kml', mediaType: 'application/vnd.google-earth.kml+xml', multiFile: false, datasetOptions: [], layerOptions: [], fixedSrid: 4326, aliases: ['application/vnd.google-earth.kml+xml'], sizeFactor: 3 }),
  f({ id: 'gml', kind: 'vector', title: 'GML 3.2', driver: 'GML', extension: 'gml', mediaType: 'application/gml+xml; version=3.2', multiFile: false, datasetOptions: ['FORMAT=GML3.2', 'SRSNAME_FORMAT=OGC_URN'], layerOptions: [], aliases: ['gml3', 'gml32', 'application/gml+xml'], sizeFactor: 3 }),
  f({ id: 'fgb', kind: 'vector', title: 'FlatGeobuf', driver: 'FlatGeobuf', extension: 'fgb', mediaType: 'application/flatgeobuf', multiFile: false, datasetOptions: [], layerOptions: ['SPATIAL_INDEX=YES'], aliases: ['flatgeobuf', 'application/flatgeobuf'], sizeFactor: 1.2 }),
  f({ id: 'tab', kind: 'vector', title: 'MapInfo TAB (zip)', driver: 'MapInfo File', extension: 'tab', mediaType: 'application/x-mapinfo', multiFile: true, datasetOptions: [], layerOptions: ['ENCODING=UTF-8'], aliases: ['mapinfo', 'mapinfo file', 'application/x-mapinfo'], sizeFactor: 1.4 }),
  f({ id: 'gtiff', kind: 'raster', title: 'GeoTIFF', driver: 'GTiff', extension: 'tif', mediaType: 'image/tiff; application=geotiff', multiFile: false, datasetOptions: ['COMPRESS=DEFLATE', 'TILED=YES'], layerOptions: [], aliases: ['geotiff', 'tiff', 'tif', 'image/tiff'], sizeFactor: 0.5 }),
  f({ id: 'cog', kind: 'raster', title: 'Cloud Optimized GeoTIFF', driver: 'COG', extension: 'tif', mediaType: 'image/tiff; application=geotiff; profile=cloud-optimized', multiFile: false, datasetOptions: ['COMPRESS=DEFLATE'], layerOptions: [], aliases: ['cloud-optimized geotiff', 'cloud optimized geotiff'], sizeFactor: 0.5 }),
];

export function findFormat(text: string): OutputFormat | undefined {
  const t = text.trim().toLowerCase();
  return FORMATS.find((x) => x.id === t || x.aliases.includes(t));
}
