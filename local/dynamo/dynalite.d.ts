// The subset of dynalite 4 this project uses; the package ships no types.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of the dynalite factory (see its index.js JSDoc). */
  interface DynaliteOptions {
    /** LevelDB directory; in memory when absent. */
    path?: string;
    /** Milliseconds a table stays CREATING. @default 500 */
    createTableMs?: number;
    /** Milliseconds a table stays DELETING. @default 500 */
    deleteTableMs?: number;
    /** Milliseconds a table stays UPDATING. @default 500 */
    updateTableMs?: number;
    /** Largest item, in KiB. @default 400 */
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An HTTP server speaking the DynamoDB JSON protocol; `close` also closes the store. */
  function dynalite(options?: DynaliteOptions): Server;

  export default dynalite;
}
