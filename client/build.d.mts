/** Bundles the SDK into one ES module for browsers and Node 22+: the text of `dist/index.js`. */
export function bundleClient(): Promise<string>;

/** Writes dist/ afresh: the bundle `index.js` and the declarations `index.d.ts` leads to. */
export function writeDist(): Promise<void>;
