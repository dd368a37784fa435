// A consumer's CDK app, as its users write one: their own stack with their
// own bucket, and two RealtimeApi, one with server hooks. It runs on Node's
// type stripping (node app.ts), so it uses erasable TypeScript only.
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RealtimeApi, TokenVerification } from 'serverless-websocket-backend';

const app = new App();
// cdk-nag's AwsSolutions rules check the synthesized app; a finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks());
const stack = new Stack(app, 'Shop');

const uploads = new s3.Bucket(stack, 'Uploads', {
  enforceSSL: true,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
  removalPolicy: RemovalPolicy.DESTROY,
});
Validations.of(uploads).acknowledge({
  id: 'AwsSolutions-S1',
  reason: 'A test bucket: its access is not audited.',
});

const chat = new RealtimeApi(stack, 'Chat', {
  hooks: { entry: 'src/realtime-hooks.ts' },
  removalPolicy: RemovalPolicy.DESTROY,
  pointInTimeRecovery: false,
  limits: { maxDataBytes: 2048 },
});
const notifications = new RealtimeApi(stack, 'Notifications', {
  tokens: TokenVerification.generatedSecret({ issuer: 'https://shop.example/' }),
  stageName: 'live',
  removalPolicy: RemovalPolicy.DESTROY,
  pointInTimeRecovery: false,
});

// The shop's order service may publish to both.
const orders = new iam.Role(stack, 'OrderService', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
});
chat.grantPublish(orders);
notifications.grantPublish(orders);

app.synth();
