import { join } from 'node:path';
import { AssetHashType, type BundlingOptions, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync } from 'esbuild';
import type { BundlingRecord } from './bundling-metadata.js';

/** The bundle's file: ESM, as NodejsFunction names it (the handler is `index.handler`). */
const BUNDLE_FILE = 'index.mjs';

/**
 * The function's code: one esbuild bundle, built at synth by esbuild's
 * JavaScript API in the synthesizing process, with the options and output
 * NodejsFunction's local bundling gives (minified ESM for Node, with a source
 * map, `module` before `main`, warnings logged), into an asset hashed by its
 * output as NodejsFunction's are.
 *
 * NodejsFunction runs esbuild's CLI through the package manager of the lock
 * file, `npx --no-install esbuild` with npm, and npx alone takes about 0.7 s
 * of CPU a function here, more than esbuild's own work: this project's app
 * (17 functions) took 38 s of CPU to synthesize instead of 12, at every
 * `cdk synth`, `npm start` and watch-mode re-synthesis.
 */
export function esbuildCode(bundle: BundlingRecord): lambda.Code {
  const options = esbuildOptions(bundle);
  const local: ILocalBundling = {
    tryBundle(outputDir: string, _options: BundlingOptions): boolean {
      // Throws with esbuild's errors (printed too, with the warnings) when the build fails.
      buildSync({ ...options, outfile: join(outputDir, BUNDLE_FILE) });
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

/** esbuild's options for `bundle`, without the output file. */
function esbuildOptions(bundle: BundlingRecord): BuildOptions {
  return {
    entryPoints: [bundle.entry],
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
