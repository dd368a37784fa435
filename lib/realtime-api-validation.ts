import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type { RealtimeApiProps } from './realtime-api-props.js';
import * as rules from './setting-rules.js';

/** A `RealtimeApi` prop that cannot be deployed; `prop` names it (`limits.maxDataBytes`). */
export class RealtimeApiPropError extends Error {
  override readonly name = 'RealtimeApiPropError';

  constructor(
    readonly prop: string,
    message: string,
  ) {
    super(message);
  }
}

/** Module types esbuild bundles as a hooks entry. */
const HOOK_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** The longest hook budget: the hooked functions' own timeout is 15 seconds. */
const MAX_HOOK_TIMEOUT_SECONDS = 10;

/**
 * Checks every prop at synth, so a mistake fails `cdk synth` with the prop's
 * name instead of a deployment or a function at run time. Values that are
 * tokens (known only at deploy time) are left to CloudFormation.
 * @param path the construct's path, which every message starts with.
 */
export function validateProps(path: string, props: RealtimeApiProps): void {
  const refuse = (prop: string, refusal: rules.Refusal, got?: unknown) => {
    if (refusal === undefined) return;
    const shown = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
    throw new RealtimeApiPropError(prop, `RealtimeApi ${path}: ${prop} ${refusal}${shown}`);
  };
  const known = (value: unknown) => !Token.isUnresolved(value);

  const { tokens } = props;
  if (tokens?.keys.kind === 'jwks' && known(tokens.keys.url)) {
    refuse('tokens (JWKS URL)', rules.httpsUrl(tokens.keys.url), tokens.keys.url);
  }
  if (props.allowedOrigins?.every(known)) {
    refuse('allowedOrigins', rules.origins(props.allowedOrigins));
  }
  for (const [name, value] of Object.entries(props.limits ?? {})) {
    if (value === undefined || !known(value)) continue;
    const rule = name === 'rateLimitPerSecond' ? rules.positiveNumber : rules.positiveInteger;
    refuse(`limits.${name}`, rule(value as number), value);
  }
  if (props.historyRetention !== undefined && !props.historyRetention.isUnresolved()) {
    const hours = props.historyRetention.toHours({ integral: false });
    refuse('historyRetention', rules.positiveInteger(hours) && 'must be a whole number of hours');
  }
  if (props.stageName !== undefined && known(props.stageName)) {
    refuse('stageName', rules.stageName(props.stageName), props.stageName);
  }
  if (props.throttle !== undefined) {
    refuse('throttle.rateLimit', rules.positiveNumber(props.throttle.rateLimit));
    refuse('throttle.burstLimit', rules.positiveInteger(props.throttle.burstLimit));
  }
  const removal = props.removalPolicy;
  if (
    removal !== undefined &&
    removal !== RemovalPolicy.RETAIN &&
    removal !== RemovalPolicy.DESTROY
  ) {
    // DynamoDB tables take no snapshot on deletion.
    refuse('removalPolicy', 'must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY', removal);
  }
  if (props.fanOutShareSize !== undefined) {
    refuse('fanOutShareSize', rules.positiveInteger(props.fanOutShareSize), props.fanOutShareSize);
  }
  const monitoring = props.monitoring ?? {};
  if (monitoring.alarmEmail !== undefined && known(monitoring.alarmEmail)) {
    refuse(
      'monitoring.alarmEmail',
      rules.emailAddress(monitoring.alarmEmail),
      monitoring.alarmEmail,
    );
  }
  if (monitoring.alarmEmail !== undefined && monitoring.alarmTopic !== undefined) {
    refuse(
      'monitoring.alarmEmail',
      'cannot be given with monitoring.alarmTopic: subscribe it to your topic',
    );
  }
  if (
    monitoring.enabled === false &&
    (monitoring.alarmEmail ?? monitoring.alarmTopic) !== undefined
  ) {
    refuse(
      'monitoring.enabled',
      'is false, so no alarm would reach monitoring.alarmEmail or alarmTopic',
    );
  }
  if (props.hooks !== undefined) {
    const entry = resolve(props.hooks.entry);
    if (!HOOK_EXTENSIONS.includes(extname(entry))) {
      refuse('hooks.entry', `must be a ${HOOK_EXTENSIONS.join(', ')} module`, props.hooks.entry);
    }
    if (!existsSync(entry)) refuse('hooks.entry', `names no file (${entry})`, props.hooks.entry);
    const timeout = props.hooks.timeout?.toMilliseconds();
    if (timeout !== undefined && (timeout <= 0 || timeout > MAX_HOOK_TIMEOUT_SECONDS * 1000)) {
      refuse(
        'hooks.timeout',
        `must be more than 0 and at most ${MAX_HOOK_TIMEOUT_SECONDS} seconds`,
      );
    }
  }
  if (props.serviceName !== undefined && props.serviceName.trim() === '') {
    refuse('serviceName', 'must not be empty');
  }
}
