import { describe, expect, it } from 'vitest';
import type { Resource } from '../../../local/assembly/stack-model.js';
import { localResolution } from '../../../local/assembly/stack-model.js';
import { readFunctionRoles } from '../../../local/iam/function-roles.js';

const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/Table';

function rolesOf(resources: Record<string, Resource>) {
  const entries = Object.entries(resources);
  const notices: string[] = [];
  const roles = readFunctionRoles({
    resources: entries,
    resolution: localResolution(entries, 'Api'),
    notice: (line) => notices.push(line),
  });
  return { roles, notices };
}

const fn = (role: unknown): Resource => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Role: role },
});
const allow = (action: string, resource: unknown) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});

describe("reading each function's role from the template", () => {
  it('attaches the inline policies, the policies naming the role and its managed policies of the template', () => {
    const { roles, notices } = rolesOf({
      Table: { Type: 'AWS::DynamoDB::Table' },
      Fn: fn({ 'Fn::GetAtt': ['Role', 'Arn'] }),
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [
            {
              PolicyName: 'Inline',
              PolicyDocument: {
                Statement: [allow('dynamodb:GetItem', { 'Fn::GetAtt': ['Table', 'Arn'] })],
              },
            },
          ],
          ManagedPolicyArns: [{ Ref: 'Managed' }],
        },
      },
      Default: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'Role' }],
          PolicyDocument: {
            Statement: [allow('dynamodb:PutItem', { 'Fn::GetAtt': ['Table', 'Arn'] })],
          },
        },
      },
      Managed: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Statement: [allow('dynamodb:Query', '*')] } },
      },
      Unrelated: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Other' }], PolicyDocument: { Statement: [allow('*', '*')] } },
      },
    });

    expect(notices).toEqual([]);
    expect(roles.get('Fn')).toEqual({
      roleId: 'Role',
      roleArn: 'arn:aws:iam::000000000000:role/Role',
      policies: [
        { name: 'Inline', document: { Statement: [allow('dynamodb:GetItem', TABLE_ARN)] } },
        { name: 'Default', document: { Statement: [allow('dynamodb:PutItem', TABLE_ARN)] } },
        { name: 'Managed', document: { Statement: [allow('dynamodb:Query', '*')] } },
      ],
    });
  });

  it('says what it cannot know: an AWS managed policy, a role from outside the template, a statement with no local value', () => {
    const { roles, notices } = rolesOf({
      Inside: fn({ 'Fn::GetAtt': ['Role', 'Arn'] }),
      Outside: fn('arn:aws:iam::123456789012:role/Imported'),
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          ManagedPolicyArns: ['arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess'],
          Policies: [
            {
              PolicyName: 'Mixed',
              PolicyDocument: {
                Statement: [
                  allow('sqs:SendMessage', { 'Fn::ImportValue': 'QueueArn' }),
                  allow('dynamodb:GetItem', '*'),
                ],
              },
            },
          ],
        },
      },
    });

    expect(roles.has('Outside')).toBe(false);
    // What cannot be read is left out, so what it alone allows is refused rather than guessed.
    expect(roles.get('Inside')?.policies).toEqual([
      { name: 'Mixed', document: { Statement: [allow('dynamodb:GetItem', '*')] } },
    ]);
    expect(notices).toEqual([
      'Mixed: statement 1 is not evaluated locally (Fn::ImportValue has no local value)',
      'Role: managed policy arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess is not in the template; what it alone allows is refused locally',
      'Outside: its role is not a role of this template; its AWS calls are not checked locally',
    ]);
  });
});
