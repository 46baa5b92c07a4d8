// The ingest thread's entry: worker threads do not inherit tsx's loader, so register it, then
// load the TypeScript worker (./worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
