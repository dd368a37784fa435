import { createReferenceHandler } from '../reference/scan-broadcast.js';

/** The benchmark's reference `refsend` route (see lambdas/reference/): never deployed by default. */
export const handler = createReferenceHandler(process.env);
