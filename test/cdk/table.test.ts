import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES } from '../../lib/realtime-stack.js';
import { environmentOf, functionIdOf, logicalIdOf, synthStack } from '../support/synth.js';

const { stack, template } = synthStack();
const tableId = logicalIdOf(stack, stack.realtime.table.node.defaultChild as CfnTable);

describe('the table', () => {
  it('is the only table', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('is keyed on pk and sk, both strings', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    });
  });

  it('has one index, the sweep index, keyed on the shard and connectedAt with only what the sweep reads', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'sweepShard', AttributeType: 'S' },
        { AttributeName: 'connectedAt', AttributeType: 'N' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'bySweepShard',
          KeySchema: [
            { AttributeName: 'sweepShard', KeyType: 'HASH' },
            { AttributeName: 'connectedAt', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['userId', 'connectionId', 'name'],
          },
        },
      ],
      LocalSecondaryIndexes: Match.absent(),
    });
  });

  it('expires items through their expiresAt attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('bills per request', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('keeps point-in-time recovery on', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is encrypted with the AWS managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
    });
  });

  it('survives the deletion of the stack and any replacement', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is named by CloudFormation, not by the stack', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: Match.absent() });
  });

  it('reaches every function that uses it as TABLE_NAME, and no other', () => {
    const withTable = HANDLER_NAMES.filter(
      (handler) => environmentOf(template, functionIdOf(stack, handler)).TABLE_NAME !== undefined,
    );
    expect(withTable).toEqual(
      HANDLER_NAMES.filter((h) => h !== 'authorizer' && h !== 'default' && h !== 'fanout'),
    );
    for (const handler of withTable) {
      expect(environmentOf(template, functionIdOf(stack, handler)).TABLE_NAME).toEqual({
        Ref: tableId,
      });
    }
  });
});
