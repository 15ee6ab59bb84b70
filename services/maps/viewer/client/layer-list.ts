/**
 * The panel's layer list: one entry per layer of the capabilities, the layer drawn on top first (as in a GIS):
 * a tick box and the title (the abstract as tooltip), then the legend, the catalogue record and the download on
 * one line. Text is set as text, never as markup.
 */
import type { CatalogueLayer } from './catalogue.js';

export interface LayerListOptions {
  /** Whether a layer is shown at first. */
  shown(name: string): boolean;
  /** A tick box changed. */
  toggle(name: string, shown: boolean): void;
  /** The layer's download link, if any. */
  downloadOf(layer: CatalogueLayer): string | undefined;
}

function link(href: string, text: string, title: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.title = title;
  a.rel = 'noopener';
  return a;
}

function entry(l: CatalogueLayer, o: LayerListOptions): HTMLLIElement {
  const li = document.createElement('li');
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.value = l.name;
  box.checked = o.shown(l.name);
  box.addEventListener('change', () => o.toggle(l.name, box.checked));
  label.append(box, ` ${l.title}`);
  if (l.abstract) label.title = l.abstract;
  const details = document.createElement('div');
  details.className = 'details';
  if (l.legendUrl) {
    const img = document.createElement('img');
    img.src = l.legendUrl;
    img.alt = `Légende : ${l.title}`;
    details.append(img);
  }
  if (l.metadataUrl) details.append(link(l.metadataUrl, 'Métadonnées', `Fiche de métadonnées de « ${l.title} » (catalogue CSW)`));
  const download = o.downloadOf(l);
  if (download) details.append(link(download, 'Télécharger', `Téléchargement de « ${l.title} » (service de téléchargement, flux Atom)`));
  li.append(label, details);
  return li;
}

export function renderLayerList(target: HTMLUListElement, layers: readonly CatalogueLayer[], o: LayerListOptions): void {
  target.replaceChildren(...[...layers].reverse().map((l) => entry(l, o)));
}
