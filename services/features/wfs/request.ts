/**
 * Typed WFS requests: what the KVP and XML readers produce and the operations consume.
 * Nothing here touches the database.
 */
import type { Filter, Envelope } from '../../../src/filter/ast.js';
import type { EditOperation } from '../../../src/edit/apply.js';

export type WfsVersion = '2.0.0' | '1.1.0' | '1.0.0';
export const SUPPORTED_VERSIONS: WfsVersion[] = ['2.0.0', '1.1.0', '1.0.0'];

export interface WfsQuery {
  /** Layer names (local part of the type names), already checked to exist. */
  typeNames: string[];
  /** srsName as the client wrote it. */
  srsName?: string;
  filter?: Filter;
  /** The FILTER text / XML as sent, for next/previous links. */
  filterText?: string;
  bbox?: Envelope;
  /** BBOX as sent, for links. */
  bboxText?: string;
  propertyNames?: string[];
  sortBy?: { name: string; descending: boolean }[];
}

export interface GetCapabilitiesRequest {
  op: 'GetCapabilities';
  version: WfsVersion;
  sections?: string[];
}

export interface DescribeFeatureTypeRequest {
  op: 'DescribeFeatureType';
  version: WfsVersion;
  typeNames: string[];
  outputFormat?: string;
}

export interface GetFeatureRequest {
  op: 'GetFeature';
  version: WfsVersion;
  queries: WfsQuery[];
  count?: number;
  startIndex: number;
  resultType: 'results' | 'hits';
  outputFormat?: string;
  /** GetFeatureById stored query: answer the bare feature, 404 when missing. */
  byId?: string;
  /** Stored query id as sent (for links). */
  storedQueryId?: string;
}

export interface GetPropertyValueRequest {
  op: 'GetPropertyValue';
  version: WfsVersion;
  query: WfsQuery;
  valueReference: string;
  count?: number;
  startIndex: number;
  resultType: 'results' | 'hits';
}

export interface ListStoredQueriesRequest {
  op: 'ListStoredQueries';
  version: WfsVersion;
}

export interface DescribeStoredQueriesRequest {
  op: 'DescribeStoredQueries';
  version: WfsVersion;
  ids: string[];
}

/** WFS-T Transaction (services/features/wfs/transaction.ts reads it; src/edit applies it). */
export interface TransactionRequest {
  op: 'Transaction';
  version: WfsVersion;
  operations: EditOperation[];
}

export type WfsRequest =
  | GetCapabilitiesRequest
  | DescribeFeatureTypeRequest
  | GetFeatureRequest
  | GetPropertyValueRequest
  | ListStoredQueriesRequest
  | DescribeStoredQueriesRequest
  | TransactionRequest;

export const GET_FEATURE_BY_ID = 'urn:ogc:def:query:OGC-WFS::GetFeatureById';
/** WFS 2.0.2 spells the stored query id as an http URI; CITE may use either. */
export const GET_FEATURE_BY_ID_URI = 'http://www.opengis.net/def/query/OGC-WFS/0/GetFeatureById';
