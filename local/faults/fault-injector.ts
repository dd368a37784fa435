/** Which faults the local stack injects, and how often. */
export interface FaultOptions {
  /**
   * Fraction (0 to 1) of the functions' DynamoDB requests answered with a
   * throttling error or a server error, alternately, without reaching the engine.
   * @default 0
   */
  readonly dynamoRate?: number;
  /**
   * Fraction (0 to 1) of management API requests answered with HTTP 429
   * (`LimitExceededException`) or HTTP 500, alternately, without being performed.
   * @default 0
   */
  readonly managementRate?: number;
  /**
   * Fraction (0 to 1) of connections that end without a close frame whose
   * `$disconnect` is never invoked. A clean close always invokes it.
   * @default 0
   */
  readonly lostDisconnectRate?: number;
  /** Draws in [0, 1); a seeded one (see `seededRandom`) makes a run repeatable. @default Math.random */
  readonly random?: () => number;
}

/** Faults injected so far, by kind. */
export interface FaultReport {
  /** DynamoDB requests answered 400 `ProvisionedThroughputExceededException`. */
  readonly dynamoThrottled: number;
  /** DynamoDB requests answered 500 `InternalServerError`. */
  readonly dynamoServerErrors: number;
  /** Management API requests answered 429 `LimitExceededException`. */
  readonly managementThrottled: number;
  /** Management API requests answered 500. */
  readonly managementServerErrors: number;
  /** Connections gone without a close frame whose `$disconnect` was dropped. */
  readonly disconnectsLost: number;
}

/** An error to answer instead of serving a request. */
export interface FaultAnswer {
  readonly status: number;
  /** The error's type: DynamoDB's `__type` suffix, the management API's `x-amzn-ErrorType`. */
  readonly type: string;
  readonly message: string;
}

// DynamoDB throttles with HTTP 400 and this type; the SDK classifies it as a throttling error.
const DYNAMO_THROTTLED: FaultAnswer = {
  status: 400,
  type: 'ProvisionedThroughputExceededException',
  message:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
};
const DYNAMO_SERVER_ERROR: FaultAnswer = {
  status: 500,
  type: 'InternalServerError',
  message: 'Internal server error',
};
const MANAGEMENT_THROTTLED: FaultAnswer = {
  status: 429,
  type: 'LimitExceededException',
  message: 'Rate exceeded',
};
const MANAGEMENT_SERVER_ERROR: FaultAnswer = {
  status: 500,
  type: 'InternalServerErrorException',
  message: 'Internal server error',
};

/**
 * Decides, request by request, which ones fail, and counts what it injected.
 * Throttling and server errors alternate, so a run at any rate exercises both.
 */
export class FaultInjector {
  private readonly dynamoRate: number;
  private readonly managementRate: number;
  private readonly lostDisconnectRate: number;
  private readonly random: () => number;
  private counts = {
    dynamoThrottled: 0,
    dynamoServerErrors: 0,
    managementThrottled: 0,
    managementServerErrors: 0,
    disconnectsLost: 0,
  };

  constructor(options: FaultOptions = {}) {
    this.dynamoRate = rate(options.dynamoRate, 'dynamoRate');
    this.managementRate = rate(options.managementRate, 'managementRate');
    this.lostDisconnectRate = rate(options.lostDisconnectRate, 'lostDisconnectRate');
    this.random = options.random ?? Math.random;
  }

  /** The error for a DynamoDB request, or undefined to serve it. */
  dynamo(): FaultAnswer | undefined {
    if (!this.strikes(this.dynamoRate)) return undefined;
    const injected = this.counts.dynamoThrottled + this.counts.dynamoServerErrors;
    if (injected % 2 === 0) {
      this.counts.dynamoThrottled++;
      return DYNAMO_THROTTLED;
    }
    this.counts.dynamoServerErrors++;
    return DYNAMO_SERVER_ERROR;
  }

  /** The error for a management API request, or undefined to serve it. */
  management(): FaultAnswer | undefined {
    if (!this.strikes(this.managementRate)) return undefined;
    const injected = this.counts.managementThrottled + this.counts.managementServerErrors;
    if (injected % 2 === 0) {
      this.counts.managementThrottled++;
      return MANAGEMENT_THROTTLED;
    }
    this.counts.managementServerErrors++;
    return MANAGEMENT_SERVER_ERROR;
  }

  /** Whether the `$disconnect` of a connection that ended without a close frame is dropped. */
  disconnectLost(): boolean {
    if (!this.strikes(this.lostDisconnectRate)) return false;
    this.counts.disconnectsLost++;
    return true;
  }

  /** What was injected so far. */
  get report(): FaultReport {
    return { ...this.counts };
  }

  private strikes(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }
}

function rate(value: number | undefined, name: string): number {
  const given = value ?? 0;
  if (!(given >= 0 && given <= 1))
    throw new RangeError(`${name} must be from 0 to 1, got ${value}`);
  return given;
}
