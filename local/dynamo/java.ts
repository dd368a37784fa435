import { execFile } from 'node:child_process';

/** The oldest Java major version DynamoDB Local runs on. */
export const MIN_JAVA_VERSION = 17;

/** Java cannot run DynamoDB Local: not installed, or older than {@link MIN_JAVA_VERSION}. */
export class JavaUnavailableError extends Error {
  override readonly name = 'JavaUnavailableError';
  readonly code = 'java_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The major version in `java -version` output, or undefined when there is none.
 * Handles both schemes: `"1.8.0_292"` is 8, `"17.0.15"` and `"21"` are 17 and 21.
 */
export function parseJavaVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** The major version of the Java on PATH (or at `command`), or undefined when it does not run. */
export function javaVersion(command = 'java'): Promise<number | undefined> {
  return new Promise((resolve) => {
    // `java -version` writes to stderr; some builds (and wrappers) use stdout.
    // A missing command fails with ENOENT and no output: that parses to undefined.
    execFile(command, ['-version'], { timeout: 10_000 }, (_error, stdout, stderr) => {
      resolve(parseJavaVersion(`${stderr}\n${stdout}`));
    });
  });
}

/** Resolves when `command` is Java {@link MIN_JAVA_VERSION}+; rejects with a `JavaUnavailableError` otherwise. */
export async function requireJava(command = 'java'): Promise<void> {
  const version = await javaVersion(command);
  if (version === undefined) {
    throw new JavaUnavailableError(
      `DynamoDB Local needs Java ${MIN_JAVA_VERSION}+, but '${command} -version' did not run: ` +
        `install a JDK/JRE ${MIN_JAVA_VERSION}+ or use DYNAMODB_ENGINE=dynalite.`,
    );
  }
  if (version < MIN_JAVA_VERSION) {
    throw new JavaUnavailableError(
      `DynamoDB Local needs Java ${MIN_JAVA_VERSION}+, but '${command}' is Java ${version}: ` +
        `put a newer Java first on PATH or use DYNAMODB_ENGINE=dynalite.`,
    );
  }
}
