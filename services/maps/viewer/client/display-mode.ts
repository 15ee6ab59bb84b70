/** What a display mode of the viewer is (displays.ts lists them): how the shown layers are drawn. */
import type BaseLayer from 'ol/layer/Base.js';

/** What a display mode puts on the map: one OpenLayers layer drawing the shown layers, bottom first. */
export interface Display {
  layer: BaseLayer;
  /** Draw these layers (names from the capabilities), the first at the bottom; none hides the display. Resolves once the map's layers are set. */
  show(names: readonly string[]): void | Promise<void>;
}

export interface DisplayMode {
  id: string;
  /** Shown in the display selector (French). */
  label: string;
  /** The key of data-endpoints this mode needs (its URL is passed to create). */
  endpoint: string;
  create(url: string): Display;
}
