import { LOCAL_ACCOUNT, type StackModel } from '../assembly/stack-model.js';
import { AccessCheck, type AccessRequest } from './access-check.js';

/**
 * What Lambda checks when an event source mapping from a DynamoDB stream is
 * created: that the function's role may read the stream. Without it
 * CloudFormation fails to create the mapping and the deploy rolls back.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-eventsourcemapping.html
 */
const STREAM_ACTIONS = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
] as const;

/** A mapping whose function's role may not read its stream. */
export class StreamAccessError extends Error {
  override readonly name = 'StreamAccessError';
}

/**
 * Refuses, as `cdk deploy` would fail, a template with an enabled event
 * source mapping whose function's role may not read the stream:
 * DescribeStream, GetRecords and GetShardIterator on the stream, ListStreams
 * (which names no resource) on `*`.
 */
export function refuseUnreadableStreams(model: StackModel): void {
  const names = new Map([...model.functions].map(([id, fn]) => [id, fn.name]));
  const access = new AccessCheck(model.roles, names, LOCAL_ACCOUNT);
  for (const mapping of model.eventSourceMappings) {
    if (!mapping.enabled) continue;
    const caller = access.callerFor(mapping.functionId);
    if (caller === undefined) continue;
    const requests: AccessRequest[] = [
      ...STREAM_ACTIONS.map((action) => ({ action, resource: mapping.eventSourceArn })),
      { action: 'dynamodb:ListStreams', resource: '*' },
    ];
    const denial = access.check(caller, requests);
    if (denial === undefined) continue;
    throw new StreamAccessError(
      `${mapping.logicalId}: Cannot access stream ${mapping.eventSourceArn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM. (Lambda refuses to create this event source mapping, so the deploy would fail: role ${caller.role.roleId} of ${caller.functionName} does not allow ${denial.action} on ${denial.resource}.)`,
    );
  }
}
