/**
 * The arithmetic of the record browser's virtual list, kept pure. Positions are "virtual
 * pixels" (row index x row height); the element keeps the virtual top as its truth and derives
 * the scroll position from it. Browsers cap an element's height (Chromium near 33.5M px), so
 * past `maxPx` the scroll range is scaled: the scrollbar still spans the whole partition and
 * rows keep their height, and keyboard moves stay exact because they move the virtual top.
 */

/** Geometry of a list: `rows` rows of `rowPx` in a viewport of `viewPx`. */
export interface ListGeometry { rows: number; rowPx: number; viewPx: number; maxPx?: number }

/** The rows to draw and where. */
export interface VirtualWindow {
  /** Height of the scrolled content, px. */
  contentPx: number;
  /** Index of the first row drawn. */
  first: number;
  /** Number of rows drawn. */
  count: number;
  /** Where the first drawn row goes, px from the content's top. */
  topPx: number;
}

const DEFAULT_MAX_PX = 8_000_000;

function sizes(g: ListGeometry) {
  const full = g.rows * g.rowPx;
  const contentPx = Math.min(full, g.maxPx ?? DEFAULT_MAX_PX);
  return { full, contentPx, maxScroll: Math.max(0, contentPx - g.viewPx), maxVirtual: Math.max(0, full - g.viewPx) };
}

/** The largest virtual top (the last row at the viewport's bottom). */
export function maxVirtualTop(g: ListGeometry): number {
  return sizes(g).maxVirtual;
}

/** The virtual top a scroll position shows. */
export function virtualTopOf(g: ListGeometry, scrollTop: number): number {
  const { maxScroll, maxVirtual } = sizes(g);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  return maxScroll > 0 ? (top / maxScroll) * maxVirtual : 0;
}

/** The scroll position that shows a virtual top. */
export function scrollTopOf(g: ListGeometry, virtualTop: number): number {
  const { maxScroll, maxVirtual } = sizes(g);
  return maxVirtual > 0 ? (Math.min(Math.max(0, virtualTop), maxVirtual) / maxVirtual) * maxScroll : 0;
}

/** The rows to draw for a virtual top, given the actual scroll position of the viewport. */
export function virtualWindow(g: ListGeometry, virtualTop: number, scrollTop: number, overscan = 4): VirtualWindow {
  const { contentPx, maxVirtual } = sizes(g);
  if (g.rows === 0) return { contentPx: 0, first: 0, count: 0, topPx: 0 };
  const v = Math.min(Math.max(0, virtualTop), maxVirtual);
  const first = Math.max(0, Math.floor(v / g.rowPx) - overscan);
  const last = Math.min(g.rows - 1, Math.ceil((v + g.viewPx) / g.rowPx) + overscan);
  return { contentPx, first, count: last - first + 1, topPx: scrollTop - (v - first * g.rowPx) };
}

/** The virtual top that keeps row `index` visible, moving as little as possible from `virtualTop`. */
export function revealRow(g: ListGeometry, virtualTop: number, index: number): number {
  const rowTop = index * g.rowPx;
  if (rowTop < virtualTop) return rowTop;
  if (rowTop + g.rowPx > virtualTop + g.viewPx) return Math.min(rowTop + g.rowPx - g.viewPx, maxVirtualTop(g));
  return virtualTop;
}
