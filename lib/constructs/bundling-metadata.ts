/**
 * How a function's bundle is made, recorded in the cloud assembly's manifest
 * (construct metadata, never the template), so the local stack's watch mode
 * can rebuild one bundle with esbuild when one of its sources changes instead
 * of synthesizing the whole app again.
 */

/** The metadata type under which a function records it. */
export const BUNDLING_METADATA = 'realtime-api:bundling';

/** What esbuild needs to rebuild a function's bundle as the synthesis built it (esbuild-code.ts). */
export interface BundlingRecord {
  /** Absolute path of the entry module. */
  readonly entry: string;
  /** The project root esbuild resolved from. */
  readonly projectRoot: string;
  /** Modules left out of the bundle (the Lambda runtime provides them). */
  readonly externals: readonly string[];
  /** The ES module banner the bundle starts with. */
  readonly banner: string;
  /** esbuild's target, e.g. `node24`. */
  readonly target: string;
}
