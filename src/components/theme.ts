/**
 * The elements' shared look: CSS custom properties with light and dark values, and base rules
 * for tables, buttons, inputs and badges. Light by default; dark follows prefers-color-scheme
 * unless `theme="light"`, and `theme="dark"` forces it. Every colour pair meets WCAG AA (4.5:1)
 * for text on its background.
 */
import { css } from 'lit';

/** The dark values of the custom properties: under prefers-color-scheme: dark, and for theme="dark". */
const dark = css`
  --_bg: var(--lanes-bg, #0d1117);
  --_surface: var(--lanes-surface, #161b22);
  --_fg: var(--lanes-fg, #e6edf3);
  --_muted: var(--lanes-muted, #9198a1);
  --_border: var(--lanes-border, #3d444d);
  --_accent: var(--lanes-accent, #4493f8);
  --_accent-fg: var(--lanes-accent-fg, #0d1117);
  --_ok: var(--lanes-ok, #3fb950);
  --_warn: var(--lanes-warn, #d29922);
  --_danger: var(--lanes-danger, #f85149);
  --_focus: var(--lanes-focus, #4493f8);
  color-scheme: dark;
`;

/** Custom properties and base styles shared by every lanes element. */
export const theme = css`
  :host {
    --_bg: var(--lanes-bg, #ffffff);
    --_surface: var(--lanes-surface, #f6f8fa);
    --_fg: var(--lanes-fg, #1f2328);
    --_muted: var(--lanes-muted, #59636e);
    --_border: var(--lanes-border, #d1d9e0);
    --_accent: var(--lanes-accent, #0969da);
    --_accent-fg: var(--lanes-accent-fg, #ffffff);
    --_ok: var(--lanes-ok, #1a7f37);
    --_warn: var(--lanes-warn, #9a6700);
    --_danger: var(--lanes-danger, #cf222e);
    --_focus: var(--lanes-focus, #0969da);
    --_radius: var(--lanes-radius, 6px);
    --_font: var(--lanes-font, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif);
    --_mono: var(--lanes-mono, ui-monospace, SFMono-Regular, 'SF Mono', Menlo, Consolas, monospace);
    display: block;
    font-family: var(--_font);
    font-size: var(--lanes-font-size, 14px);
    line-height: 1.45;
    color: var(--_fg);
    background: var(--_bg);
    color-scheme: light;
  }
  :host([hidden]) { display: none; }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) { ${dark} }
  }
  :host([theme='dark']) { ${dark} }
  *, *::before, *::after { box-sizing: border-box; }
  h2, h3 { margin: 0; font-weight: 600; }
  h2 { font-size: 1.05em; }
  h3 { font-size: 1em; }
  .muted { color: var(--_muted); }
  .mono, code { font-family: var(--_mono); font-size: 0.92em; }
  .num { font-variant-numeric: tabular-nums; text-align: right; }
  table { border-collapse: collapse; width: 100%; }
  th, td { padding: 6px 10px; border-bottom: 1px solid var(--_border); text-align: left; vertical-align: top; }
  th { font-weight: 600; color: var(--_muted); font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.03em; background: var(--_surface); }
  th.num { text-align: right; }
  tbody th { text-transform: none; letter-spacing: 0; font-size: 1em; color: var(--_fg); background: none; font-weight: 600; }
  .card { border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); overflow: hidden; }
  .card + .card { margin-top: 12px; }
  .card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 10px 12px; background: var(--_surface); border-bottom: 1px solid var(--_border); }
  .scroll-x { overflow-x: auto; }
  button, input, select, textarea { font: inherit; color: inherit; }
  button {
    border: 1px solid var(--_border); background: var(--_surface); border-radius: var(--_radius);
    padding: 4px 12px; min-height: 32px; cursor: pointer;
  }
  button:hover:not(:disabled) { border-color: var(--_muted); }
  button:disabled { opacity: 0.55; cursor: default; }
  button.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); font-weight: 600; }
  button.link { border: 0; background: none; padding: 0 2px; min-height: 0; color: var(--_accent); text-decoration: underline; text-underline-offset: 2px; }
  input, select, textarea {
    border: 1px solid var(--_border); background: var(--_bg); border-radius: var(--_radius); padding: 4px 8px; min-height: 32px;
  }
  :focus-visible { outline: 2px solid var(--_focus); outline-offset: 2px; }
  label { display: inline-flex; flex-direction: column; gap: 2px; font-size: 0.85em; color: var(--_muted); }
  label > input, label > select, label > textarea { font-size: 1.15em; color: var(--_fg); }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8em; font-weight: 600; border: 1px solid currentColor; }
  .ok { color: var(--_ok); }
  .warn { color: var(--_warn); }
  .danger { color: var(--_danger); }
  .empty { padding: 16px 12px; color: var(--_muted); }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** Styles of the sparkline figure (chart.ts). */
export const chartStyles = css`
  .spark { margin: 0; display: inline-flex; flex-direction: column; gap: 2px; min-width: 0; }
  .spark figcaption { font-size: 0.85em; color: var(--_muted); white-space: nowrap; }
  .spark figcaption strong { color: var(--_fg); font-size: 1.15em; }
  .spark svg { display: block; max-width: 100%; }
`;
