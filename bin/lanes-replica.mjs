#!/usr/bin/env node
// lanes-replica: the replica server's command line (src/replica/cli.ts, built into dist/node/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/node/replica/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`lanes-replica: ${cli} is missing; build it with: npm run build\n`);
  process.exit(2);
}
const { main } = await import(pathToFileURL(cli).href);
await main(process.argv.slice(2));
