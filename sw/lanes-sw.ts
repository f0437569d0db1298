/**
 * The ready-made lanes service worker (`dist/lanes-sw.js`): uploads pending records to the
 * replica when no tab is open. Registered by `createClient({ sync })` (workbox-window). An app
 * with its own service worker imports `installLanesSync` from `lanes/sw` instead.
 */
/// <reference lib="webworker" />
import { installLanesSync } from './lanes-sync.js';

declare const self: ServiceWorkerGlobalScope;

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
installLanesSync(self);
