import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromEnvironment, startDynamo } from '../../../local/dynamo/engine.js';
import { javaVersion, parseJavaVersion } from '../../../local/dynamo/java.js';
import { ensureTables } from '../../../local/dynamo/tables.js';

describe('engineFromEnvironment', () => {
  it('defaults to dynalite in memory', () => {
    expect(engineFromEnvironment({})).toEqual({ engine: 'dynalite' });
  });

  it('treats empty variables as unset', () => {
    expect(engineFromEnvironment({ DYNAMODB_ENGINE: '', DYNAMODB_DIR: ' ' })).toEqual({
      engine: 'dynalite',
    });
  });

  it('reads dynamodb-local and a data directory', () => {
    expect(
      engineFromEnvironment({ DYNAMODB_ENGINE: 'dynamodb-local', DYNAMODB_DIR: '.local/ddb' }),
    ).toEqual({ engine: 'dynamodb-local', dir: '.local/ddb' });
  });

  it('refuses an engine it does not know, naming the choices', () => {
    expect(() => engineFromEnvironment({ DYNAMODB_ENGINE: 'localstack' })).toThrow(
      expect.objectContaining({
        name: 'EngineConfigError',
        code: 'engine_config_invalid',
        message: expect.stringContaining("dynalite, dynamodb-local; got 'localstack'"),
      }),
    );
  });
});

describe('parseJavaVersion', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
    ['java version "11.0.2" 2019-01-15 LTS', 11],
  ])('reads %j as Java %i', (output, major) => {
    expect(parseJavaVersion(output)).toBe(major);
  });

  it('finds no version in unrelated output', () => {
    expect(parseJavaVersion('bash: java: command not found')).toBeUndefined();
  });
});

describe('the Java check of dynamodb-local', () => {
  let dir: string;
  let oldJava: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-java-'));
    oldJava = join(dir, 'java');
    await writeFile(oldJava, '#!/bin/sh\necho \'java version "1.8.0_292"\' >&2\n');
    await chmod(oldJava, 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds no version when Java is missing', async () => {
    expect(await javaVersion(join(dir, 'missing'))).toBeUndefined();
  });

  it('reads the version a Java prints', async () => {
    expect(await javaVersion(oldJava)).toBe(8);
  });

  it('refuses to start without Java', async () => {
    await expect(
      startDynamo({ engine: 'dynamodb-local', java: join(dir, 'missing') }),
    ).rejects.toMatchObject({ name: 'JavaUnavailableError', code: 'java_unavailable' });
  });

  it('refuses to start on a Java older than 17, naming its version', async () => {
    await expect(startDynamo({ engine: 'dynamodb-local', java: oldJava })).rejects.toMatchObject({
      name: 'JavaUnavailableError',
      code: 'java_unavailable',
      message: expect.stringContaining('is Java 8'),
    });
  });
});

describe('startDynamo', () => {
  it('refuses a port outside 0-65535', async () => {
    await expect(startDynamo({ port: 70_000 })).rejects.toThrow(RangeError);
  });
});

describe('ensureTables', () => {
  it('refuses an index without a key schema, naming the table', async () => {
    const dynamo = await startDynamo();
    try {
      const creating = ensureTables(dynamo.endpoint, [
        {
          logicalId: 'Broken',
          tableName: 'broken',
          keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          globalSecondaryIndexes: [{ IndexName: 'byNothing' }],
        },
      ]);
      await expect(creating).rejects.toMatchObject({
        name: 'TableSetupError',
        code: 'table_definition_invalid',
        message: expect.stringContaining('Broken'),
      });
    } finally {
      await dynamo.stop();
    }
  });
});
