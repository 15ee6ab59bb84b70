/**
 * The vocabularies of a layer's descriptive metadata, as INSPIRE and the CNIG guide ask for them: ISO 19115
 * topic categories (MD_TopicCategoryCode), the 34 INSPIRE themes (registry http://inspire.ec.europa.eu/theme,
 * French labels of the GEMET thesaurus), and the parties (producer, point of contact).
 */

/** ISO 19115:2003 B.5.27 MD_TopicCategoryCode. */
export const TOPIC_CATEGORIES = [
  'farming', 'biota', 'boundaries', 'climatologyMeteorologyAtmosphere', 'economy', 'elevation', 'environment',
  'geoscientificInformation', 'health', 'imageryBaseMapsEarthCover', 'intelligenceMilitary', 'inlandWaters', 'location',
  'oceans', 'planningCadastre', 'society', 'structure', 'transportation', 'utilitiesCommunication',
] as const;

/** INSPIRE themes by code (Annexes I–III), with their French names. */
export const INSPIRE_THEMES: Readonly<Record<string, string>> = {
  rs: 'Référentiels de coordonnées', gg: 'Systèmes de maillage géographique', gn: 'Dénominations géographiques',
  au: 'Unités administratives', ad: 'Adresses', cp: 'Parcelles cadastrales', tn: 'Réseaux de transport', hy: 'Hydrographie',
  ps: 'Sites protégés', el: 'Altitude', lc: 'Occupation des terres', oi: 'Ortho-imagerie', ge: 'Géologie',
  su: 'Unités statistiques', bu: 'Bâtiments', so: 'Sols', lu: 'Usage des sols', hh: 'Santé et sécurité des personnes',
  us: "Services d'utilité publique et services publics", ef: 'Installations de suivi environnemental',
  pf: 'Lieux de production et sites industriels', af: 'Installations agricoles et aquacoles',
  pd: 'Répartition de la population — démographie', am: 'Zones de gestion, de restriction ou de réglementation et unités de déclaration',
  nz: 'Zones à risque naturel', ac: 'Conditions atmosphériques', mf: 'Caractéristiques géographiques météorologiques',
  of: 'Caractéristiques géographiques océanographiques', sr: 'Régions maritimes', br: 'Régions biogéographiques',
  hb: 'Habitats et biotopes', sd: 'Répartition des espèces', er: 'Sources d\'énergie', mr: 'Ressources minérales',
};

export const inspireThemeUri = (code: string) => `http://inspire.ec.europa.eu/theme/${code}`;

/** A responsible party: an organisation, optionally a person, an e-mail address and a web site. */
export interface Party {
  organisation: string;
  individual?: string;
  email?: string;
  url?: string;
}
