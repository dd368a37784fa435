import { describe, expect, it } from 'vitest';
import { actionsOf, statementsOfRole, synthStack, templateJson } from '../support/synth.js';

describe('the benchmark reference handler', () => {
  it('is absent unless REFERENCE_HANDLER is true', () => {
    const { template } = synthStack();
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { RouteKey: 'refsend' }, 0);
  });

  it('with REFERENCE_HANDLER=true is the one-way refsend route, and the only function that may Scan', () => {
    const { stack, template } = synthStack({ context: { REFERENCE_HANDLER: 'true' } });
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { RouteKey: 'refsend' }, 1);
    // $default and the 8 actions reply; refsend, like the sample's route, does not.
    template.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 9);
    const json = templateJson(template);
    const scanners = Object.entries(json.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
      .filter(([id]) =>
        statementsOfRole(json, id).some((statement) =>
          actionsOf(statement).includes('dynamodb:Scan'),
        ),
      )
      .map(([id]) => id);
    expect(scanners).toHaveLength(1);
    expect(scanners[0]).toMatch(/^ReferenceSendHandlerRole/);
    expect(stack.realtime.node.tryFindChild('ReferenceSendHandler')).toBeDefined();
  });
});
