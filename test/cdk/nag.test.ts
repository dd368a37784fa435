import { type PolicyValidationPluginReport, type Stack, Validations } from 'aws-cdk-lib';
import { type CfnApi, CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { RealtimeStack } from '../../lib/realtime-stack.js';
import { logicalIdOf, synthStack } from '../support/synth.js';
import { CONFIGURATIONS } from './support/configurations.js';

// cdk-nag 3 is a policy validation plugin (Validations.of(app).addPlugins), not an
// aspect, and reads acknowledgements made with Validations.of(scope).acknowledge.
// validateScope is its entry point for tests: it returns every unacknowledged
// finding, warnings included, where synthesis would only fail on errors.

/** Runs AwsSolutions over the synthesized app, its aspects applied. */
function check(stack: Stack): PolicyValidationPluginReport {
  return new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack.node.root);
}

/** One line per finding: severity, rule, where, and why. */
function findings(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.severity} ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
    ),
  );
}

function connectRoute(stack: RealtimeStack): CfnRoute {
  const routes = stack.node
    .findAll()
    .filter((c): c is CfnRoute => c instanceof CfnRoute && c.routeKey === '$connect');
  const [route] = routes;
  if (route === undefined || routes.length !== 1) throw new Error('expected one $connect route');
  return route;
}

/** Every acknowledged rule id of the app, each with the number of constructs it is on. */
function acknowledgements(root: IConstruct): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const id of Object.keys(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        counts[rule] = (counts[rule] ?? 0) + 1;
      }
    }
  }
  return counts;
}

describe('cdk-nag AwsSolutions', () => {
  it.each(CONFIGURATIONS)('finds no unacknowledged error or warning with %s', (_, options) => {
    const { stack } = synthStack(options);
    expect(findings(check(stack))).toEqual([]);
  });

  it('acknowledges only these findings, each where it arises (tripwire: review any change)', () => {
    const { stack } = synthStack();
    const apiId = logicalIdOf(stack, stack.realtime.webSocket.api.node.defaultChild as CfnApi);
    expect(acknowledgements(stack)).toEqual({
      // Each message route and $disconnect: authorizers exist on $connect only.
      'AwsSolutions-APIG4': 10,
      // The account's API Gateway logging role.
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]': 1,
      // The role of each function that posts: send, typing, direct, the
      // sweeper, the fan-out workers, publish and presence.
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/prod/*/@connections/*]`]: 7,
      // dynamodb:ListStreams of the presence function's event source mapping.
      'AwsSolutions-IAM5[Resource::*]': 1,
      'AwsSolutions-SMG4': 1,
    });
  });

  it('acknowledges point-in-time recovery off on the dev stage’s table alone', () => {
    const { stack } = synthStack({ context: { STAGE: 'dev' } });
    const acknowledged = stack.node
      .findAll()
      .filter((construct) =>
        construct.node.metadata.some(
          (entry) =>
            entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
            Object.keys(entry.data as Record<string, string>).some((id) => id.endsWith('DDB3')),
        ),
      );
    expect(acknowledged).toEqual([stack.realtime.table]);
    const { stack: prod } = synthStack();
    expect(acknowledgements(prod)).not.toHaveProperty('AwsSolutions-DDB3');
  });

  it('gives every acknowledgement a reason of its own', () => {
    const { stack } = synthStack();
    const reasons = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.values(entry.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(100);
  });

  it('still flags $connect without an authorizer: the acknowledgement is per route', () => {
    const { stack } = synthStack();
    const route = connectRoute(stack);
    route.authorizationType = 'NONE';
    route.authorizerId = undefined;
    expect(findings(check(stack))).toEqual([
      expect.stringMatching(
        /^error AwsSolutions-APIG4 at Realtime\/Realtime\/WebSocket\/Api\/\$connect-Route\//,
      ),
    ]);
  });

  it('still flags any other wildcard on a function that posts', () => {
    const { stack } = synthStack();
    stack.realtime.functions.send.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${stack.realtime.table.tableArn}/index/*`],
      }),
    );
    expect(findings(check(stack))).toEqual([
      expect.stringMatching(
        /^error AwsSolutions-IAM5\[Resource::<DataTable[0-9A-F]+\.Arn>\/index\/\*\] at Realtime\/Realtime\/SendHandlerRole\//,
      ),
    ]);
  });
});
