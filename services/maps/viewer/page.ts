/**
 * The viewer's HTML page: French text, the panel the browser code fills (services/maps/viewer/client/), and
 * the map's endpoints (data-endpoints, root-relative so that the page's requests stay on its own origin, under
 * the proxy's path prefix when there is one). No inline script or style: the page's Content-Security-Policy
 * (index.ts) allows the bundle from the same origin only.
 */
import { xmlEscape as h } from '../../../src/xml/escape.js';

export interface ViewerPage {
  title: string;
  /** Path prefix of the platform's public URL ('' at the root). */
  prefix: string;
  /** Endpoint key → root-relative URL, for the display modes the platform mounts (client/displays.ts). */
  endpoints: Record<string, string>;
}

export function viewerPage(p: ViewerPage): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Visionneuse cartographique – ${h(p.title)}</title>
<link rel="icon" href="${h(p.prefix)}/viewer/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${h(p.prefix)}/viewer/viewer.css">
<script type="module" src="${h(p.prefix)}/viewer/viewer.js"></script>
</head>
<body>
<header><h1>${h(p.title)} — visionneuse cartographique</h1></header>
<div id="visionneuse">
<aside id="panneau">
<section aria-labelledby="titre-couches">
<h2 id="titre-couches">Couches</h2>
<p id="etat" role="status">Chargement des couches…</p>
<p><label for="affichage">Affichage :</label> <select id="affichage"></select></p>
<ul id="couches"></ul>
</section>
</aside>
<div id="zone-carte">
<main id="carte" aria-label="Carte" data-endpoints="${h(JSON.stringify(p.endpoints))}"></main>
<section id="panneau-infos" aria-labelledby="titre-infos">
<h2 id="titre-infos">Informations</h2>
<div id="infos" aria-live="polite"><p>Cliquez sur la carte pour interroger les couches affichées.</p></div>
</section>
</div>
</div>
<noscript><p>La visionneuse nécessite JavaScript.</p></noscript>
</body>
</html>
`;
}
