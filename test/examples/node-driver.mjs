/**
 * Runs the example programs in this Node process on the in-page broker (fake-indexeddb), then
 * ends the process with the SIGTERM they trap. Prints `DRIVER {summary}` before the signal.
 * The admin program's trap re-raises the signal at once; the consumer's only after it
 * disconnected: the process ends with the consumer's, so its disconnect completes first.
 */
import 'fake-indexeddb/auto';
import { driveExamples } from './driver.mjs';

const kill = process.kill.bind(process);
let raised = 0;
process.kill = (pid, sig) => (pid === process.pid && ++raised < 2 ? true : kill(pid, sig));

const summary = await driveExamples({ load: (name) => import(new URL(`../../examples/${name}.mjs`, import.meta.url).href) });
console.log(`DRIVER ${JSON.stringify(summary)}`);
process.emit('SIGTERM', 'SIGTERM');
