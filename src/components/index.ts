/**
 * `lanes/components`: lit elements that show a lanes database. Importing this module defines
 * every element (`<lanes-inspector>`, `<lanes-topic-view>`, `<lanes-group-view>`,
 * `<lanes-record-browser>`, `<lanes-produce-form>`, `<lanes-sync-status>`); an element already
 * defined (e.g. by a second copy of the bundle) is left alone.
 */
import { LanesGroupView } from './group-view.js';
import { LanesInspector } from './inspector.js';
import { LanesProduceForm } from './produce-form.js';
import { LanesRecordBrowser } from './record-browser.js';
import { LanesSyncStatus } from './sync-status.js';
import { LanesTopicView } from './topic-view.js';

export { LanesGroupView, LanesInspector, LanesProduceForm, LanesRecordBrowser, LanesSyncStatus, LanesTopicView };
export type { MirrorView, SyncStatusView } from './sync-status.js';
export type { InspectorTab } from './inspector.js';

const elements: [string, CustomElementConstructor][] = [
  ['lanes-topic-view', LanesTopicView],
  ['lanes-group-view', LanesGroupView],
  ['lanes-record-browser', LanesRecordBrowser],
  ['lanes-produce-form', LanesProduceForm],
  ['lanes-sync-status', LanesSyncStatus],
  ['lanes-inspector', LanesInspector],
];
for (const [name, ctor] of elements) if (!customElements.get(name)) customElements.define(name, ctor);
