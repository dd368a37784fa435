/**
 * The rules a setting's value must follow, shared by the standalone app's
 * configuration (context and environment) and the `RealtimeApi` props: each
 * returns why a value is refused, or `undefined` when it is fine.
 */

/** Why a value is refused, completing "<name> ..." (e.g. "must be a positive integer"). */
export type Refusal = string | undefined;

export function positiveNumber(value: number): Refusal {
  return Number.isFinite(value) && value > 0 ? undefined : 'must be a positive number';
}

export function positiveInteger(value: number): Refusal {
  return Number.isSafeInteger(value) && value > 0 ? undefined : 'must be a positive integer';
}

// API Gateway stage names: letters, digits, hyphens and underscores, at most 128.
export function stageName(value: string): Refusal {
  return /^[A-Za-z0-9_-]{1,128}$/.test(value)
    ? undefined
    : 'must be 1 to 128 letters, digits, hyphens or underscores';
}

// One bare address, the endpoint an SNS email subscription takes; a typo here
// would only surface as a confirmation mail that never arrives.
export function emailAddress(value: string): Refusal {
  return /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/.test(value)
    ? undefined
    : 'must be one email address, such as ops@example.com';
}

export function httpsUrl(value: string): Refusal {
  try {
    if (new URL(value).protocol === 'https:') return undefined;
  } catch {
    // Falls through to the refusal below.
  }
  return 'must be an https URL';
}

// Lambda reads the secret by its complete ARN (the one Secrets Manager shows,
// ending in a six-character suffix); a partial ARN would need a wildcard grant.
export function secretsManagerArn(value: string): Refusal {
  return /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(value)
    ? undefined
    : 'must be the complete ARN of a Secrets Manager secret';
}

/** Browser origins as the Origin header carries them: scheme, host and port only. */
export function origins(list: readonly string[]): Refusal {
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      return `must list origins such as https://app.example.com ("${origin}" is not one)`;
    }
  }
  return list.length > 0 ? undefined : 'must list at least one origin';
}
