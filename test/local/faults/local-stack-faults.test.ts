import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../../local/dynamo/client.js';
import { useLocalStack } from '../../integration/support/local-stack-fixture.js';
import { scanTable } from '../../security/support/table-scan.js';

const NO_FAULTS = {
  dynamoThrottled: 0,
  dynamoServerErrors: 0,
  managementThrottled: 0,
  managementServerErrors: 0,
  disconnectsLost: 0,
};

describe('local stack with every DynamoDB request of the functions failing', () => {
  const local = useLocalStack('dynalite', { faults: { dynamoRate: 1 } });

  it("fails the functions' requests through the proxy and leaves dynamoEndpoint to the engine", async () => {
    // $connect cannot record the connection, so API Gateway refuses the upgrade.
    const status = await local.refusal(await local.token({ sub: 'faulty' }));

    expect(status).toBe(500);
    const faults = local.stack.faults;
    expect(faults.dynamoThrottled).toBeGreaterThan(0);
    expect(faults.dynamoServerErrors).toBeGreaterThan(0);
    const direct = localDynamoClient(local.stack.dynamoEndpoint, { maxAttempts: 1 });
    try {
      const { TableNames } = await direct.send(new ListTablesCommand({}));
      expect(TableNames).toHaveLength(1);
    } finally {
      direct.destroy();
    }
    const tableName = local.stack.model.tables[0]?.logicalId ?? '';
    expect(await scanTable(local.stack.dynamoEndpoint, tableName)).toEqual([]);
  });
});

describe('local stack without the faults option', () => {
  const local = useLocalStack('dynalite');

  it('injects no fault', async () => {
    const client = await local.joined('calm', 'calm-room');
    const ack = await client.request({ action: 'send', room: 'calm-room', data: 'hello' });
    client.kill();
    await client.closed;

    expect(ack).toMatchObject({ type: 'ack', seq: 1 });
    expect(local.stack.faults).toEqual(NO_FAULTS);
  });
});
