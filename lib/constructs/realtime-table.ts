import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Properties of a `RealtimeTable`. */
export interface RealtimeTableProps {
  /**
   * What happens to the data when the table leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single table holding connections, room memberships, sequence counters
 * and message history: `pk`/`sk` strings, no index, items expiring through
 * the `expiresAt` attribute (epoch seconds).
 */
export class RealtimeTable extends Construct {
  /** The DynamoDB table; its generated name reaches the functions as TABLE_NAME. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RealtimeTableProps = {}) {
    super(scope, id);
    // The id 'Table' fixes the logical id: changing it would replace the table.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
