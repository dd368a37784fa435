import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/**
 * The keys every line of one invocation carries. The user id is added once
 * known (after the authorizer's context is read); it is absent before.
 */
export interface InvocationKeys {
  readonly route: string;
  readonly connectionId?: string;
  /** API Gateway's `requestContext.requestId`; Lambda's own id is `function_request_id`. */
  readonly requestId?: string;
  readonly userId?: string;
}

/**
 * Fields one line adds. Scalars only, so that an event, a request or its
 * `data` cannot be handed to a log line whole.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** The Lambda context fields a line names; a handler called directly (tests) has none. */
export type LogContext = Partial<
  Pick<
    Context,
    'awsRequestId' | 'functionName' | 'functionVersion' | 'invokedFunctionArn' | 'memoryLimitInMB'
  >
>;

/** Writes JSON lines; `POWERTOOLS_LOG_LEVEL` sets the level (default INFO). */
export interface InvocationLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * Powertools Logger with its keys scoped to one invocation. A warm execution
 * environment serves many connections one after another, so every `begin`
 * first forgets the previous invocation's keys and Lambda context, and `end`
 * forgets this one's. Nothing here logs the event (its query string or body
 * may hold a token), so POWERTOOLS_LOGGER_LOG_EVENT has no effect.
 */
export class PowertoolsLog implements InvocationLog {
  constructor(private readonly logger: Logger = new Logger()) {}

  /** Starts an invocation: its keys and Lambda request id go on every line until `end`. */
  begin(keys: InvocationKeys, context: LogContext = {}): void {
    this.logger.resetKeys();
    // Always set, so that a call without a context does not inherit the previous request id.
    this.logger.addContext(context as Context);
    this.addKeys(keys);
    // Re-draws POWERTOOLS_LOGGER_SAMPLE_RATE's DEBUG sampling per invocation, not per environment.
    this.logger.refreshSampleRateCalculation();
  }

  /** Adds keys learned during the invocation (the user id) to its later lines. */
  addKeys(keys: Partial<InvocationKeys>): void {
    const defined = Object.entries(keys).filter(([, value]) => value !== undefined);
    if (defined.length > 0) this.logger.appendKeys(Object.fromEntries(defined));
  }

  /** Ends an invocation: its keys are forgotten. */
  end(): void {
    this.logger.resetKeys();
  }

  debug(message: string, fields: LogFields = {}): void {
    this.logger.debug(message, { ...fields });
  }

  info(message: string, fields: LogFields = {}): void {
    this.logger.info(message, { ...fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.logger.warn(message, { ...fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.logger.error(message, { ...fields });
  }
}
