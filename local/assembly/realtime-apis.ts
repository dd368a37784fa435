import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathOf, type Resource } from './stack-model.js';
import { UnsupportedTemplateError } from './unsupported-template-error.js';

/** A `RealtimeApi` of a cloud assembly: where its stack's template is and which part it is. */
export interface RealtimeApiLocation {
  /** The assembly directory the template and its assets are in (a nested one for a Stage). */
  readonly outdir: string;
  /** The stack's artifact id: its template is `<stackId>.template.json`. */
  readonly stackId: string;
  /** The construct path of the API (`Consumer/Chat`), which its resources' paths start with. */
  readonly path: string;
}

/** What a cloud assembly's manifest.json says of its artifacts. */
interface Manifest {
  readonly artifacts?: Record<
    string,
    {
      readonly type?: string;
      readonly properties?: { readonly templateFile?: string; readonly directoryName?: string };
    }
  >;
}

// A RealtimeApi's API is its child 'WebSocket', whose child 'Api' is the CfnApi's
// L2; its functions are its other children, `<Name>Handler`.
const API_PATH = /^(.+)\/WebSocket\/Api\/Resource$/;

/**
 * Every `RealtimeApi` of the cloud assembly in `outdir`, in the order of the
 * manifest's stacks and their templates, nested assemblies (CDK Stages) included.
 */
export function findRealtimeApis(outdir: string): RealtimeApiLocation[] {
  const manifestFile = join(outdir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new UnsupportedTemplateError(`${outdir} is no cloud assembly (no manifest.json)`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const found: RealtimeApiLocation[] = [];
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      found.push(...findRealtimeApis(join(outdir, artifact.properties.directoryName)));
      continue;
    }
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || templateFile === undefined) continue;
    const template = JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as {
      Resources?: Record<string, Resource>;
    };
    const resources = Object.values(template.Resources ?? {});
    for (const resource of resources) {
      if (resource.Type !== 'AWS::ApiGatewayV2::Api') continue;
      const path = API_PATH.exec(pathOf(resource))?.[1];
      const hasHandlers = resources.some(
        (other) =>
          other.Type === 'AWS::Lambda::Function' &&
          /^[A-Z]\w*Handler\/Resource$/.test(pathOf(other).slice((path?.length ?? 0) + 1)) &&
          pathOf(other).startsWith(`${path}/`),
      );
      if (path === undefined || !hasHandlers) continue;
      found.push({
        outdir: dirname(join(outdir, templateFile)),
        stackId: templateFile.replace(/^.*\//, '').replace(/\.template\.json$/, ''),
        path,
      });
    }
  }
  return found;
}
