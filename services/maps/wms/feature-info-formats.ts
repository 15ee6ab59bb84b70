/** INFO_FORMATs of GetFeatureInfo (empty until GetFeatureInfo is served: layers are then not queryable). */
export const FEATURE_INFO_FORMATS: string[] = [];
