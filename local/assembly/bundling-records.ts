import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLING_METADATA, type BundlingRecord } from '../../lib/constructs/bundling-metadata.js';
import type { StackModel } from './stack-model.js';

export type { BundlingRecord } from '../../lib/constructs/bundling-metadata.js';

/** Construct metadata entries by construct path (`/Stack/Api/SendHandler`). */
type MetadataByPath = Record<string, readonly { type: string; data?: unknown }[]>;

/** The manifest's metadata, as far as it is read here. */
interface Manifest {
  readonly artifacts?: Record<
    string,
    { readonly metadata?: MetadataByPath; readonly additionalMetadataFile?: string }
  >;
}

/**
 * How each function of `model` was bundled, by logical id, from the manifest
 * of the assembly in `outdir`: the functions a `RealtimeFunction` made record
 * it; others (a consumer's own) are absent and are only reloaded by a synth.
 */
export function readBundlingRecords(
  outdir: string,
  model: StackModel,
): ReadonlyMap<string, BundlingRecord> {
  const file = join(outdir, 'manifest.json');
  if (!existsSync(file)) return new Map();
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const byPath = new Map<string, BundlingRecord>();
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    // Recent CDK versions write a stack's metadata to a file of its own.
    const extra = artifact.additionalMetadataFile;
    const metadata: MetadataByPath = {
      ...artifact.metadata,
      ...(extra === undefined
        ? {}
        : (JSON.parse(readFileSync(join(outdir, extra), 'utf8')) as MetadataByPath)),
    };
    for (const [path, entries] of Object.entries(metadata)) {
      const entry = entries.find((candidate) => candidate.type === BUNDLING_METADATA);
      if (entry !== undefined) byPath.set(path.replace(/^\//, ''), entry.data as BundlingRecord);
    }
  }
  const records = new Map<string, BundlingRecord>();
  for (const fn of model.functions.values()) {
    const record = byPath.get(fn.constructPath);
    if (record !== undefined) records.set(fn.logicalId, record);
  }
  return records;
}
