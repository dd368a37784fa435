/** The absolute path of TypeScript's `tsc` script, run with `node`. */
export declare const TSC: string;
