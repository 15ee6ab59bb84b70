/**
 * A layer's ISO 19139 record "kept marked as withdrawn" (issue 10: delete or unpublish with
 * record=keep-withdrawn): the catalogue keeps describing a dataset that is no longer served, as INSPIRE and
 * GeoNetwork practice has it, with MD_DataIdentification/status = MD_ProgressCode `obsolete` (ISO 19115 B.5.23:
 * "data is no longer relevant"), no online resource left in its distribution (the links would be dead) and a new
 * dateStamp, so that harvesters see the change. The record's other content stays as it was written.
 */
import { MetadataError } from '../records/record.js';

const CODELIST = 'http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ProgressCode';
const STATUS = `<gmd:status><gmd:MD_ProgressCode codeList="${CODELIST}" codeListValue="obsolete">obsolete</gmd:MD_ProgressCode></gmd:status>`;

/** The elements of AbstractMD_Identification before `status` (ISO 19139 sequence: citation, abstract, purpose, credit). */
const BEFORE_STATUS = /^\s*<gmd:(purpose|credit)\b[^>]*>[\s\S]*?<\/gmd:\1>/;

export function withdrawnRecordXml(document: string, dateStamp: string): string {
  const ident = /<gmd:(MD_DataIdentification|SV_ServiceIdentification)\b/.exec(document);
  const abstractEnd = ident ? document.indexOf('</gmd:abstract>', ident.index) : -1;
  if (!ident || abstractEnd < 0) throw new MetadataError('The record has no gmd:MD_DataIdentification with a gmd:abstract to mark as withdrawn');
  let doc = document.replace(/<gmd:status\b[^>]*>[\s\S]*?<\/gmd:status>/g, (m, offset: number) => (offset > ident.index ? '' : m));
  // Insert after the abstract and any purpose or credit that follow it.
  let at = doc.indexOf('</gmd:abstract>', ident.index) + '</gmd:abstract>'.length;
  for (let m = BEFORE_STATUS.exec(doc.slice(at)); m; m = BEFORE_STATUS.exec(doc.slice(at))) at += m[0].length;
  doc = doc.slice(0, at) + STATUS + doc.slice(at);
  // No link to services that no longer serve it.
  doc = doc.replace(/<gmd:transferOptions\b[^>]*>[\s\S]*?<\/gmd:transferOptions>/g, '').replace(/<gmd:transferOptions\b[^>]*\/>/g, '');
  return doc.replace(/<gmd:dateStamp>[\s\S]*?<\/gmd:dateStamp>/, `<gmd:dateStamp><gco:DateTime>${dateStamp}</gco:DateTime></gmd:dateStamp>`);
}
