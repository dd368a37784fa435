import { resolveString } from '../assembly/intrinsics.js';
import type { StackModel } from '../assembly/stack-model.js';
import { type LocalSecret, withoutSuffix } from './secrets-manager-api.js';

/**
 * The secrets the local stack's Secrets Manager holds, all with `value` (the
 * local HS256 secret, so every API verifies the tokens of /dev/token): each
 * `AWS::SecretsManager::Secret` of the template, at its local ARN and named
 * by its logical id, and each secret of another stack or account that a
 * function's `JWT_SECRET_ARN` names (one imported with
 * `TokenVerification.fromSecret`), at that ARN.
 */
export function stackSecrets(model: StackModel, value: string): LocalSecret[] {
  const secrets = new Map<string, LocalSecret>();
  for (const logicalId of model.secrets) {
    const arn = resolveString({ Ref: logicalId }, model.resolution);
    secrets.set(arn, { arn, name: logicalId, value });
  }
  for (const fn of model.functions.values()) {
    const named = fn.environment.JWT_SECRET_ARN;
    if (named === undefined) continue;
    const arn = resolveString(named, model.resolution);
    if (!secrets.has(arn)) secrets.set(arn, { arn, name: nameInArn(arn), value });
  }
  return [...secrets.values()];
}

/**
 * The secret's name in a complete ARN, which ends in `-` and six random
 * characters Secrets Manager appends: `...:secret:realtime/jwt-AbCdEf` names `realtime/jwt`.
 */
function nameInArn(arn: string): string {
  const at = arn.indexOf(':secret:');
  if (at < 0) return arn;
  return withoutSuffix(arn).slice(at + ':secret:'.length);
}
