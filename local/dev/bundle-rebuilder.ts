import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { type BuildContext, type BuildResult, context, type Message } from 'esbuild';
import type { BundlingRecord } from '../assembly/bundling-records.js';

/** A function whose bundle the rebuilder keeps. */
export interface RebuiltFunction {
  readonly functionId: string;
  readonly record: BundlingRecord;
  /** The bundle the assembly holds (`.../asset.<hash>/index.mjs`), whose source map names its inputs. */
  readonly bundle: string;
}

/** What one rebuild made. */
export type RebuildOutcome =
  | { readonly ok: true; readonly bundles: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly errors: string };

/**
 * Rebuilds functions' bundles with esbuild when their sources change, as
 * the synthesis built them (its options are recorded in the manifest), with
 * one incremental esbuild context per function, so a rebuild reparses only
 * what changed. Each rebuild is written to a directory of its own: an
 * instance still running the previous bundle keeps its files.
 */
export class BundleRebuilder {
  readonly #functions: ReadonlyMap<string, RebuiltFunction>;
  readonly #outRoot: string;
  /** The absolute paths each function's bundle is made of. */
  readonly #inputs = new Map<string, ReadonlySet<string>>();
  readonly #contexts = new Map<string, Promise<BuildContext<{ metafile: true }>>>();
  #generation = 0;
  #closed = false;

  constructor(functions: readonly RebuiltFunction[], outRoot: string) {
    this.#functions = new Map(functions.map((fn) => [fn.functionId, fn]));
    this.#outRoot = outRoot;
    for (const fn of functions) this.#inputs.set(fn.functionId, inputsOfSourceMap(fn.bundle));
  }

  /** The functions whose bundle is made of `file` (absolute). */
  affectedBy(file: string): string[] {
    const path = resolve(file);
    return [...this.#inputs].filter(([, inputs]) => inputs.has(path)).map(([id]) => id);
  }

  /**
   * Rebuilds the bundles of `functionIds`; all succeed or none is used, so a
   * compile error leaves every function on its last good code.
   */
  async rebuild(functionIds: readonly string[]): Promise<RebuildOutcome> {
    this.#generation += 1;
    const generation = this.#generation;
    const results = await Promise.all(
      functionIds.map(async (id) => {
        try {
          const ctx = await this.#contextOf(id);
          return { id, result: await ctx.rebuild() };
        } catch (error) {
          return { id, errors: errorText(error) };
        }
      }),
    );
    const failed = results.flatMap((result) => ('errors' in result ? [result.errors] : []));
    if (failed.length > 0) return { ok: false, errors: [...new Set(failed)].join('\n') };
    const bundles = new Map<string, string>();
    for (const outcome of results) {
      if (!('result' in outcome) || outcome.result === undefined) continue;
      bundles.set(outcome.id, this.#write(outcome.id, generation, outcome.result));
    }
    return { ok: true, bundles };
  }

  /**
   * Builds every function once in the background, one at a time, so the
   * first save rebuilds incrementally too (a first build parses the AWS SDK
   * and everything else the bundle holds; later ones only what changed).
   */
  async warm(): Promise<void> {
    for (const functionId of this.#functions.keys()) {
      if (this.#closed) return;
      try {
        const result = await (await this.#contextOf(functionId)).rebuild();
        this.#recordInputs(functionId, result);
      } catch {
        // A source that does not build now is reported by the save that fixes it.
      }
    }
  }

  /** Disposes of the esbuild contexts and deletes the rebuilt bundles. */
  async close(): Promise<void> {
    this.#closed = true;
    const contexts = await Promise.allSettled(this.#contexts.values());
    await Promise.all(
      contexts.map((settled) =>
        settled.status === 'fulfilled' ? settled.value.dispose() : Promise.resolve(),
      ),
    );
    rmSync(this.#outRoot, { recursive: true, force: true });
  }

  #contextOf(functionId: string) {
    let ctx = this.#contexts.get(functionId);
    if (ctx === undefined) {
      const fn = this.#functions.get(functionId);
      if (fn === undefined) throw new Error(`no bundling record for ${functionId}`);
      const { record } = fn;
      ctx = context({
        entryPoints: [record.entry],
        absWorkingDir: record.projectRoot,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: record.target,
        // The project's own code only: its packages (the AWS SDK above all)
        // are imported from the project's node_modules, at the versions the
        // synthesized bundles hold, instead of being linked and printed again
        // on every save, which costs a second of CPU per function. The next
        // synthesis bundles them again as Lambda runs them.
        packages: 'external',
        minify: false,
        sourcemap: true,
        mainFields: ['module', 'main'],
        external: [...record.externals],
        banner: { js: record.banner },
        // esbuild writes the files itself: passed back to this process they
        // would cross its event loop in pipe-sized pieces, slowly while the
        // stack is busy serving. Each build is then moved to its generation's
        // directory, at the same depth, so the source map's relative paths hold.
        outfile: this.#outfile(functionId),
        write: true,
        metafile: true,
        logLevel: 'silent',
      });
      this.#contexts.set(functionId, ctx);
      // A context that failed to start is not kept: the next save tries again.
      ctx.catch(() => this.#contexts.delete(functionId));
    }
    return ctx;
  }

  #outfile(functionId: string): string {
    return join(this.#outRoot, functionId, 'current', 'index.mjs');
  }

  /** Moves the build esbuild just wrote to the directory of `generation`; returns the bundle's path. */
  #write(functionId: string, generation: number, result: BuildResult<{ metafile: true }>): string {
    const dir = join(this.#outRoot, functionId, String(generation));
    mkdirSync(dir, { recursive: true });
    const built = this.#outfile(functionId);
    const bundle = join(dir, 'index.mjs');
    renameSync(built, bundle);
    renameSync(`${built}.map`, `${bundle}.map`);
    this.#recordInputs(functionId, result);
    return bundle;
  }

  #recordInputs(functionId: string, result: BuildResult<{ metafile: true }>): void {
    const root = this.#functions.get(functionId)?.record.projectRoot ?? '';
    this.#inputs.set(
      functionId,
      new Set(Object.keys(result.metafile.inputs).map((input) => resolve(root, input))),
    );
  }
}

/** The files a bundle was made of, from its source map (`<bundle>.map`), as absolute paths. */
function inputsOfSourceMap(bundle: string): ReadonlySet<string> {
  try {
    const sources = sourcesOfSourceMap(`${bundle}.map`);
    return new Set(sources.map((source) => resolve(dirname(bundle), source)));
  } catch {
    return new Set();
  }
}

/**
 * The `sources` of a source map, read from its beginning only: the maps of
 * bundles holding the AWS SDK are megabytes (sourcesContent, mappings), and
 * parsing them whole after a synthesis would hold up the event loop that
 * serves the sockets for a tenth of a second or more.
 */
export function sourcesOfSourceMap(file: string): string[] {
  const fd = openSync(file, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.alloc(64 * 1024);
    let text = '';
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      text += read === 0 ? decoder.end() : decoder.write(chunk.subarray(0, read));
      const sources = sourcesArray(text);
      if (sources !== undefined) return sources;
      if (read === 0) return [];
    }
  } finally {
    closeSync(fd);
  }
}

/** The `"sources": [...]` array of the JSON text, once the text holds all of it. */
function sourcesArray(text: string): string[] | undefined {
  const key = text.indexOf('"sources"');
  const start = key === -1 ? -1 : text.indexOf('[', key);
  if (start === -1) return undefined;
  let inString = false;
  let escaped = false;
  for (let index = start + 1; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === ']') return JSON.parse(text.slice(start, index + 1)) as string[];
  }
  return undefined;
}

/** esbuild's errors as its CLI prints them: `file:line:column: ERROR: text`. */
function errorText(error: unknown): string {
  const messages = (error as { errors?: Message[] }).errors;
  if (messages === undefined || messages.length === 0) return String(error);
  return messages
    .map((message) => {
      const at = message.location;
      const where = at === null ? '' : `${at.file}:${at.line}:${at.column}: `;
      return `${where}ERROR: ${message.text}`;
    })
    .join('\n');
}
