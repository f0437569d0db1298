#!/usr/bin/env node
// `npm start`: serves the demo page and the built bundle on 127.0.0.1 until interrupted.
import { startStaticServer } from './static-server.mjs';

const port = Number(process.env.PORT ?? 8080);
const routes = { '/': (_req, res) => res.writeHead(302, { location: '/web/' }).end() };
const server = await startStaticServer({ port, routes }).catch(async (e) => {
  if (e.code !== 'EADDRINUSE') throw e;
  console.log(`port ${port} is busy; using a free one`);
  return startStaticServer({ port: 0, routes });
});
console.log(`lanes demo: ${server.url}/web/  (Ctrl+C to stop)`);
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
