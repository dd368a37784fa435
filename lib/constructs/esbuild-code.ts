import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AssetHashType, type BundlingOptions, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync, type OutputFile } from 'esbuild';
import type { BundlingRecord } from './bundling-metadata.js';

/**
 * Functions' code, each one esbuild bundle, built at synth by esbuild's
 * JavaScript API in the synthesizing process, with the options and output
 * NodejsFunction's local bundling gives (minified ESM for Node, with a source
 * map, `module` before `main`, warnings logged), into an asset hashed by its
 * output as NodejsFunction's are.
 *
 * The bundles of a batch are built together: the first one CDK asks for
 * builds every bundle added so far, in one esbuild build per set of options,
 * and the others are written from memory when CDK asks for them. One build
 * parses the modules the functions share (the AWS SDK, the domain code) once
 * instead of once a function: the app's 17 bundles take 4 s of CPU and 2 s
 * instead of 8 s and 4.4 s (esbuild's CLI, measured here). So a construct
 * adds all its functions' bundles before it creates the first function
 * (CDK bundles an asset when the function is created).
 *
 * NodejsFunction runs esbuild's CLI through the package manager of the lock
 * file, `npx --no-install esbuild` with npm, and npx alone takes about 0.7 s
 * of CPU a function here, more than esbuild's own work: this project's app
 * took 38 s of CPU to synthesize instead of 12, at every `cdk synth`,
 * `npm start` and watch-mode re-synthesis.
 */
export class EsbuildBatch {
  /** Every bundle added, by {@link bundleKey}. */
  readonly #bundles = new Map<string, BundlingRecord>();
  /** Bundles built and not yet written, by key: their files, for output folders in `parent`. */
  readonly #built = new Map<string, { readonly parent: string; readonly files: OutputFile[] }>();

  /** Adds `bundle` to the batch, to be built with the others; returns its key. */
  add(bundle: BundlingRecord): string {
    const key = bundleKey(bundle);
    this.#bundles.set(key, bundle);
    return key;
  }

  /** Adds `bundle` to the batch and returns the function's code, bundled with the others. */
  code(bundle: BundlingRecord): lambda.Code {
    const key = this.add(bundle);
    const local: ILocalBundling = {
      tryBundle: (outputDir: string, _options: BundlingOptions): boolean => {
        this.#write(key, outputDir);
        return true;
      },
    };
    return lambda.Code.fromAsset(bundle.projectRoot, {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Required by CDK, never pulled: the local build succeeds or throws.
        image: DockerImage.fromRegistry('dummy'),
        // Part of CDK's key for reusing a staged asset within a synthesis: the
        // build as esbuild's CLI would take it, so two functions never share a bundle.
        command: ['esbuild', ...cliArguments(bundle)],
        local,
      },
    });
  }

  /** Writes the bundle of `key` into `outputDir`, building the batch's bundles first if need be. */
  #write(key: string, outputDir: string): void {
    const parent = dirname(outputDir);
    if (this.#built.get(key)?.parent !== parent) this.#build(parent);
    const built = this.#built.get(key);
    if (built === undefined) throw new Error(`esbuild built no bundle for ${key}`);
    for (const file of built.files)
      writeFileSync(join(outputDir, basename(file.path)), file.contents);
    this.#built.delete(key);
  }

  /**
   * Builds every bundle of the batch, one esbuild build per set of options,
   * as if into folders in `parent`. CDK bundles each asset into a folder of
   * the assembly and then renames it, so a sibling folder gives the source
   * maps the same relative paths as building into the asset's own.
   * Throws with esbuild's errors (printed too, with the warnings) when a build fails.
   */
  #build(parent: string): void {
    const groups = new Map<string, [string, BundlingRecord][]>();
    for (const [key, bundle] of this.#bundles) {
      const options = JSON.stringify(esbuildOptions(bundle));
      const group = groups.get(options) ?? [];
      group.push([key, bundle]);
      groups.set(options, group);
    }
    for (const group of groups.values()) {
      const first = group[0]?.[1];
      if (first === undefined) continue;
      const { outputFiles } = buildSync({
        ...esbuildOptions(first),
        entryPoints: group.map(([, bundle], index) => ({
          in: bundle.entry,
          out: `bundle-${index}/index`,
        })),
        outdir: parent,
        // index.mjs (ESM), as NodejsFunction names it: the handler is `index.handler`.
        outExtension: { '.js': '.mjs' },
        write: false,
      });
      group.forEach(([key], index) => {
        const folder = join(parent, `bundle-${index}`);
        const files = outputFiles.filter((file) => dirname(file.path) === folder);
        this.#built.set(key, { parent, files });
      });
    }
  }
}

/** esbuild's options for `bundle`, without its entry and output. */
function esbuildOptions(bundle: BundlingRecord): BuildOptions {
  return {
    absWorkingDir: bundle.projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: bundle.target,
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    external: [...bundle.externals],
    banner: { js: bundle.banner },
    // esbuild's size report of every bundle would drown the synth's output.
    logLevel: 'warning',
  };
}

/** Tells bundles apart within a batch: the build as esbuild's CLI takes it. */
function bundleKey(bundle: BundlingRecord): string {
  return JSON.stringify([bundle.projectRoot, ...cliArguments(bundle)]);
}

/** The build of {@link esbuildOptions} as esbuild's CLI takes it. */
function cliArguments(bundle: BundlingRecord): string[] {
  return [
    '--bundle',
    bundle.entry,
    `--target=${bundle.target}`,
    '--platform=node',
    '--format=esm',
    '--minify',
    '--sourcemap',
    ...bundle.externals.map((name) => `--external:${name}`),
    `--banner:js=${bundle.banner}`,
    '--main-fields=module,main',
  ];
}
