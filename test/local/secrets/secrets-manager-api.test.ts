import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  handleSecretsManagerRequest,
  type LocalSecret,
} from '../../../local/secrets/secrets-manager-api.js';
import { httpRequest, type LoopbackServer, serveOnLoopback } from '../support/http.js';

// Exercised with the real SDK client, so what the authorizer sends and parses
// (GetSecretValue through SecretsManagerSecretSource) is what is tested.
const SECRET: LocalSecret = {
  arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:JwtSecretB8834B39',
  name: 'JwtSecretB8834B39',
  value: 'local-hs256-secret',
};
/** A secret of another stack, whose ARN ends in the six characters Secrets Manager appends. */
const IMPORTED: LocalSecret = {
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:realtime/jwt-AbCdEf',
  name: 'realtime/jwt',
  value: 'imported-hs256-secret',
};
const DENIED = 'User: arn:aws:sts::000000000000:assumed-role/R/F is not authorized';

let server: LoopbackServer;
let endpoint: string;
let client: SecretsManagerClient;
let asked: { action: string; secretArn: string }[];
/** ARNs IAM refuses to the caller. */
let refused: string[];

beforeAll(async () => {
  server = await serveOnLoopback((request, response) =>
    handleSecretsManagerRequest(
      {
        secrets: [SECRET, IMPORTED],
        region: 'us-east-1',
        account: '000000000000',
        authorize: (action, secretArn) => {
          asked.push({ action, secretArn });
          return refused.includes(secretArn) ? { message: DENIED } : undefined;
        },
      },
      request,
      response,
    ),
  );
  endpoint = server.url;
  client = new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

beforeEach(() => {
  asked = [];
  refused = [];
});

/** A raw JSON 1.1 request, as the SDK would not send it. */
function post(target: string | undefined, body: string) {
  return httpRequest('POST', `${endpoint}/`, body, 5000, {
    'Content-Type': 'application/x-amz-json-1.1',
    ...(target === undefined ? {} : { 'X-Amz-Target': target }),
  });
}

describe('GetSecretValue', () => {
  it("answers the secret's current text by its ARN, after IAM allowed GetSecretValue on it", async () => {
    const output = await client.send(new GetSecretValueCommand({ SecretId: SECRET.arn }));

    expect(output).toMatchObject({
      ARN: SECRET.arn,
      Name: SECRET.name,
      SecretString: SECRET.value,
      VersionStages: ['AWSCURRENT'],
      VersionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      CreatedDate: expect.any(Date),
    });
    expect(asked).toEqual([{ action: 'secretsmanager:GetSecretValue', secretArn: SECRET.arn }]);
  });

  it('answers the same secret by its name, checked on its ARN', async () => {
    const output = await client.send(new GetSecretValueCommand({ SecretId: SECRET.name }));

    expect(output.SecretString).toBe(SECRET.value);
    expect(asked).toEqual([{ action: 'secretsmanager:GetSecretValue', secretArn: SECRET.arn }]);
  });

  it('answers a secret by its partial ARN (without the random suffix), checked on its complete ARN', async () => {
    const partial = IMPORTED.arn.slice(0, -'-AbCdEf'.length);

    const output = await client.send(new GetSecretValueCommand({ SecretId: partial }));

    expect(output).toMatchObject({ ARN: IMPORTED.arn, SecretString: IMPORTED.value });
    expect(asked).toEqual([{ action: 'secretsmanager:GetSecretValue', secretArn: IMPORTED.arn }]);
  });

  it('finds no secret by a partial ARN that is only the start of its name', async () => {
    const partial = IMPORTED.arn.slice(0, -'/jwt-AbCdEf'.length);

    await expect(
      client.send(new GetSecretValueCommand({ SecretId: partial })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('answers the current version when asked for AWSCURRENT or its id, and no other', async () => {
    const { VersionId } = await client.send(new GetSecretValueCommand({ SecretId: SECRET.arn }));

    await expect(
      client.send(new GetSecretValueCommand({ SecretId: SECRET.arn, VersionStage: 'AWSCURRENT' })),
    ).resolves.toMatchObject({ SecretString: SECRET.value });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: SECRET.arn, VersionId })),
    ).resolves.toMatchObject({ SecretString: SECRET.value });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: SECRET.arn, VersionStage: 'AWSPREVIOUS' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('answers an unknown secret 400 ResourceNotFoundException, as Secrets Manager words it', async () => {
    const failure = client.send(new GetSecretValueCommand({ SecretId: 'no-such-secret' }));

    await expect(failure).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
    // IAM is asked first, on the ARN the name would have.
    expect(asked).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:no-such-secret',
      },
    ]);
  });

  it("refuses a caller IAM does not allow with 400 AccessDeniedException and IAM's message, no value", async () => {
    refused = [SECRET.arn];
    const answer = await post(
      'secretsmanager.GetSecretValue',
      JSON.stringify({ SecretId: SECRET.name }),
    );

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ __type: 'AccessDeniedException', message: DENIED });
    expect(answer.body).not.toContain(SECRET.value);
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: SECRET.arn })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException', message: DENIED });
  });
});

describe('DescribeSecret', () => {
  it('describes the secret with its one version as AWSCURRENT, after IAM allowed DescribeSecret', async () => {
    const output = await client.send(new DescribeSecretCommand({ SecretId: SECRET.arn }));

    expect(output).toMatchObject({ ARN: SECRET.arn, Name: SECRET.name, RotationEnabled: false });
    expect(Object.values(output.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
    expect(JSON.stringify(output)).not.toContain(SECRET.value);
    expect(asked).toEqual([{ action: 'secretsmanager:DescribeSecret', secretArn: SECRET.arn }]);
  });
});

describe('the JSON 1.1 protocol', () => {
  it('answers an operation it does not serve 400 UnknownOperationException, asking IAM nothing', async () => {
    const answer = await post('secretsmanager.PutSecretValue', '{}');

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(answer.body)).toMatchObject({ __type: 'UnknownOperationException' });
    expect(asked).toEqual([]);
  });

  it('answers a body that is not a JSON object 400 SerializationException', async () => {
    for (const body of ['{"SecretId":', '"JwtSecretB8834B39"']) {
      const answer = await post('secretsmanager.GetSecretValue', body);

      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ __type: 'SerializationException' });
    }
    expect(asked).toEqual([]);
  });

  it('leaves a request with no Secrets Manager target to the rest of the server', async () => {
    expect((await post(undefined, '{}')).status).toBe(404);
    expect((await post('DynamoDB_20120810.GetItem', '{}')).status).toBe(404);
    expect((await httpRequest('GET', `${endpoint}/`)).status).toBe(404);
  });
});
