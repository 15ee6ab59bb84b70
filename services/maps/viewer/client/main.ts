/**
 * The map viewer (/viewer), bundled with OpenLayers by scripts/build-viewer.mjs and served by the platform:
 * the layer list from the WMS capabilities (with each layer's legend, catalogue record and download), the
 * shown layers drawn by the chosen display mode (displays.ts), and a click that asks WMS GetFeatureInfo.
 * Everything it requests is on the page's own origin (the Content-Security-Policy of the page allows nothing
 * else). The URL's `couches` parameter (comma list of layer names) chooses the shown layers and is kept up to
 * date, so a view can be shared; without it every layer is shown.
 * When the map has drawn every shown layer, #carte gets data-etat="pret" (the browser tests wait for it).
 */
import 'ol/ol.css';
import './viewer.css';
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import { transformExtent } from 'ol/proj.js';
import { readWmsCatalogue, type CatalogueLayer } from './catalogue.js';
import { DISPLAY_MODES, type Display, type DisplayMode } from './displays.js';
import { FeatureInfo, renderFeatures } from './feature-info.js';
import { renderLayerList } from './layer-list.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function endpointsOf(el: HTMLElement): Record<string, string> {
  try {
    const v = JSON.parse(el.dataset.endpoints ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Union of the layers' WGS 84 extents, in the view's projection. */
function extentOf(layers: readonly CatalogueLayer[]): number[] | undefined {
  const boxes = layers.map((l) => l.extent).filter((e): e is [number, number, number, number] => !!e);
  if (!boxes.length) return undefined;
  const u = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])), Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))];
  return transformExtent(u, 'EPSG:4326', 'EPSG:3857');
}

async function main(): Promise<void> {
  const target = byId<HTMLElement>('carte');
  const status = byId<HTMLElement>('etat');
  const listEl = byId<HTMLUListElement>('couches');
  const infoEl = byId<HTMLElement>('infos');
  const modeEl = byId<HTMLSelectElement>('affichage');
  const endpoints = endpointsOf(target);
  const wmsUrl = endpoints.wms;
  if (!wmsUrl) {
    status.textContent = 'Aucun service WMS n’est publié sur cette plateforme.';
    return;
  }

  let layers: CatalogueLayer[];
  try {
    const r = await fetch(`${wmsUrl}?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    layers = readWmsCatalogue(await r.text()).layers;
  } catch (e) {
    status.textContent = `Impossible de lire les capacités du service WMS (${e instanceof Error ? e.message : String(e)}).`;
    return;
  }
  status.textContent = layers.length ? `${layers.length} couche${layers.length > 1 ? 's' : ''} publiée${layers.length > 1 ? 's' : ''}.` : 'Aucune couche publiée.';

  const asked = new URL(location.href).searchParams.get('couches');
  const known = new Set(layers.map((l) => l.name));
  const wanted = asked === null ? [...known] : asked.split(',').filter((n) => known.has(n));
  const shown = new Set(wanted);
  const shownInOrder = () => layers.filter((l) => shown.has(l.name)).map((l) => l.name);
  const titleOf = (name: string) => layers.find((l) => l.name === name)?.title ?? name;

  const view = new View({ center: [0, 0], zoom: 2 });
  const map = new OlMap({ target, view, controls: defaultControls({ attribution: false }).extend([new ScaleLine({ units: 'metric' })]) });
  view.fit(extentOf(layers.filter((l) => shown.has(l.name))) ?? extentOf(layers) ?? [-20037508, -20037508, 20037508, 20037508], { padding: [10, 10, 10, 10] });

  // Display modes whose endpoint the platform mounts, the default first; `affichage` in the URL picks one.
  const modes: DisplayMode[] = DISPLAY_MODES.filter((m) => endpoints[m.endpoint]);
  let display: Display | undefined;
  // Shows not yet applied (a mode may first read its capabilities): the map is not ready before they are.
  let pendingShows = 0;
  const showLayers = async () => {
    target.dataset.etat = 'chargement';
    pendingShows++;
    try {
      await display?.show(shownInOrder());
    } catch (e) {
      status.textContent = `Affichage impossible (${e instanceof Error ? e.message : String(e)}).`;
    } finally {
      pendingShows--;
      map.render();
    }
  };
  const keepInUrl = (name: string, value: string) => {
    const url = new URL(location.href);
    url.searchParams.set(name, value);
    history.replaceState(null, '', url);
  };
  const useMode = (m: DisplayMode) => {
    if (display) map.removeLayer(display.layer);
    display = m.create(endpoints[m.endpoint]!);
    map.addLayer(display.layer);
    void showLayers();
  };
  for (const m of modes) modeEl.add(new Option(m.label, m.id));
  modeEl.disabled = modes.length < 2;
  modeEl.addEventListener('change', () => {
    const m = modes.find((x) => x.id === modeEl.value);
    if (!m) return;
    useMode(m);
    keepInUrl('affichage', m.id);
  });
  const first = modes.find((m) => m.id === new URL(location.href).searchParams.get('affichage')) ?? modes[0];
  if (first) {
    modeEl.value = first.id;
    useMode(first);
  }

  const update = () => {
    void showLayers();
    keepInUrl('couches', shownInOrder().join(','));
  };

  // A layer's download: its DataURL, else its INSPIRE Atom dataset feed on the platform's download service (which
  // lists the layer's files in each format and CRS).
  const downloadOf = (l: CatalogueLayer) => l.downloadUrl ?? (endpoints.download ? `${endpoints.download}/atom/${encodeURIComponent(l.name)}.xml` : undefined);

  renderLayerList(listEl, layers, {
    shown: (name) => shown.has(name),
    toggle(name, on) {
      if (on) shown.add(name);
      else shown.delete(name);
      update();
    },
    downloadOf,
  });

  map.on('loadstart', () => (target.dataset.etat = 'chargement'));
  map.on('rendercomplete', () => {
    if (pendingShows === 0) target.dataset.etat = 'pret';
  });

  const info = new FeatureInfo(wmsUrl);
  let pending: AbortController | undefined;
  map.on('singleclick', async (ev) => {
    const queried = shownInOrder().filter((n) => layers.find((l) => l.name === n)?.queryable);
    const url = info.url(queried, ev.coordinate, view.getResolution()!, view.getProjection());
    if (!url) {
      infoEl.textContent = 'Aucune couche interrogeable n’est affichée.';
      return;
    }
    pending?.abort();
    pending = new AbortController();
    infoEl.textContent = 'Interrogation…';
    infoEl.dataset.etat = 'chargement';
    try {
      renderFeatures(infoEl, await info.query(url, pending.signal), titleOf);
      infoEl.dataset.etat = 'pret';
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      infoEl.textContent = `Interrogation impossible (${e instanceof Error ? e.message : String(e)}).`;
      infoEl.dataset.etat = 'erreur';
    }
  });
}

void main();
