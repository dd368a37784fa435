import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudFormationFindings } from '../support/cloudformation-validation.js';
import { synthStack, type TemplateJson } from '../support/synth.js';
import { CONFIGURATIONS } from './support/configurations.js';

const directory = mkdtempSync(join(tmpdir(), 'realtime-cfn-validation-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Writes `template` where the validation reads it, returning the path. */
function written(name: string, template: unknown): string {
  const path = join(directory, `${name}.template.json`);
  writeFileSync(path, JSON.stringify(template));
  return path;
}

describe("CloudFormation's validation of the app", () => {
  it.each(CONFIGURATIONS)('finds nothing with %s', (name, options) => {
    const { template } = synthStack(options);

    expect(cloudFormationFindings([written(name, template.toJSON())])).toEqual([]);
  });

  it('finds a property of the wrong type or unknown to the resource (the check runs)', () => {
    const template = synthStack().template.toJSON() as TemplateJson;
    const [, fn] =
      Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function') ?? [];
    if (fn === undefined) throw new Error('the app has no function');
    Object.assign(fn.Properties as object, { MemorySize: 'lots', Bogus: 1 });

    const findings = cloudFormationFindings([written('broken', template)]);

    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error F3012 at .*MemorySize: 'lots' is not of type 'integer'/),
        expect.stringMatching(/^error F3002 at .*'Bogus' was unexpected/),
      ]),
    );
  });
});
