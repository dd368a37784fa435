import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES } from '../../lib/realtime-stack.js';
import {
  type SynthOptions,
  synthStack,
  type TemplateResource,
  templateJson,
} from '../support/synth.js';

function logGroups(options: SynthOptions = {}): TemplateResource[] {
  const { template } = synthStack(options);
  return Object.values(templateJson(template).Resources).filter(
    (resource) => resource.Type === 'AWS::Logs::LogGroup',
  );
}

const groups = logGroups();

describe('the log groups', () => {
  it('are one per function plus the access logs', () => {
    expect(groups).toHaveLength(HANDLER_NAMES.length + 1);
  });

  it('all have a retention', () => {
    for (const group of groups) {
      expect(group.Properties?.RetentionInDays).toEqual(expect.any(Number));
    }
  });

  it('all have a retention with a JWKS URL too', () => {
    const jwks = logGroups({
      context: { JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json' },
    });
    expect(jwks.length).toBeGreaterThan(0);
    for (const group of jwks) {
      expect(group.Properties?.RetentionInDays).toEqual(expect.any(Number));
    }
  });

  it('all survive the deletion of the stack', () => {
    for (const group of groups) {
      expect(group).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });
});
