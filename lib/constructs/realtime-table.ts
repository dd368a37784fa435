import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  SWEEP_INDEX,
  SWEEP_SHARD_ATTRIBUTE,
  TTL_ATTRIBUTE,
} from '../../lambdas/adapters/table-keys.js';

/** Properties of a `RealtimeTable`. */
export interface RealtimeTableProps {
  /**
   * What happens to the data when the table leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Continuous backups, restorable to any second of the last 35 days.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Refuses DeleteTable until turned off, whoever asks.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The single table holding connections, room memberships, sequence counters
 * and message history: `pk`/`sk` strings, items expiring through the
 * `expiresAt` attribute (epoch seconds), and one sparse index over the
 * connection records only, which the sweeper reads instead of scanning. Its
 * stream carries every change with the item before and after.
 */
export class RealtimeTable extends Construct {
  /** The DynamoDB table; its generated name reaches the functions as TABLE_NAME. */
  readonly table: dynamodb.Table;
  /** The names of the table's global secondary indexes. */
  readonly indexNames: readonly string[] = [SWEEP_INDEX];

  constructor(scope: Construct, id: string, props: RealtimeTableProps = {}) {
    super(scope, id);
    // The id 'Table' fixes the logical id: changing it would replace the table.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true,
      },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? true,
      // The `presence` function announces arrivals and departures from the
      // membership records' changes: it needs each record before and after.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    if (props.pointInTimeRecovery === false) {
      Validations.of(this.table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          'Point-in-time recovery is turned off only for a disposable stage (dev), whose table ' +
          'is deleted with the stack: restoring its data is never wanted, so continuous ' +
          'backups of it would be cost without use. The prod stage keeps it on.',
      });
    }
    // Only connection records carry the shard attribute, so the index holds
    // them alone and costs a write only when a connection opens or closes.
    this.table.addGlobalSecondaryIndex({
      indexName: SWEEP_INDEX,
      partitionKey: { name: SWEEP_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'connectedAt', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['userId', 'connectionId', 'name'],
    });
  }
}
