// Turns on moto's IAM enforcement with known principals, so wrong credentials are really rejected
// and a role's policy really limits what its session may do. moto keeps everything in memory: call
// again after every (re)start; the seed makes the generated access keys the same every time.
import type { AwsPeer } from './aws-peer.js';

export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface MotoPrincipals {
  /** May do anything: the test fixture writes secrets with it. */
  admin: AccessKey;
  /** May only read secrets (the provider's least privilege). */
  reader: AccessKey;
  /** A role whose sessions may read secrets (web identity, or sts:AssumeRole by admin). */
  readerRoleArn: string;
  /** A role with no permissions at all. */
  emptyRoleArn: string;
  /** A role whose sessions may only assume roles (sts:AssumeRole): a hop in a role chain. */
  hopRoleArn: string;
}

/** The read-only actions the provider needs (moto checks actions, not resource ARNs). */
export const READ_ONLY_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:BatchGetSecretValue',
  'secretsmanager:ListSecrets',
  'secretsmanager:DescribeSecret',
];

const SEED = 20_261_101;
const policy = (statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statement });
/**
 * Web identity sessions may assume the roles, and so may any principal of the account whose own
 * policy allows sts:AssumeRole (the admin user with static keys; role sessions when chaining), as a
 * trust of `arn:aws:iam::ACCOUNT:root` does. moto compares principals as plain strings (a role
 * session never equals its role's ARN) and a statement naming another principal denies outright,
 * so the account is spelled "*" here, in one statement; the callers' identity policies decide.
 */
const trust = policy([
  { Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/kubernetes` }, Action: 'sts:AssumeRoleWithWebIdentity' },
  { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
]);

/** An IAM query-API call. Only valid while enforcement is off: the signature is not computed. */
async function iam(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params });
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIABOOTSTRAP0000000/20260101/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${action}: ${res.status} ${text}`);
  return text;
}

async function createUser(endpoint: string, name: string, actions: string[]): Promise<AccessKey> {
  await iam(endpoint, 'CreateUser', { UserName: name });
  await iam(endpoint, 'PutUserPolicy', { UserName: name, PolicyName: 'lockstep', PolicyDocument: policy([{ Effect: 'Allow', Action: actions, Resource: '*' }]) });
  const xml = await iam(endpoint, 'CreateAccessKey', { UserName: name });
  const accessKeyId = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error('IAM CreateAccessKey returned no key');
  return { accessKeyId, secretAccessKey };
}

async function createRole(endpoint: string, name: string, actions: string[]): Promise<string> {
  await iam(endpoint, 'CreateRole', { RoleName: name, AssumeRolePolicyDocument: trust });
  if (actions.length > 0) {
    await iam(endpoint, 'PutRolePolicy', { RoleName: name, PolicyName: 'lockstep', PolicyDocument: policy([{ Effect: 'Allow', Action: actions, Resource: '*' }]) });
  }
  return `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
}

/** Creates the principals on a fresh (or reset) moto and turns IAM enforcement on. */
export async function enforceIam(peer: AwsPeer): Promise<MotoPrincipals> {
  await peer.motoApi('reset-auth', 'inf');
  await peer.motoApi('reset');
  await peer.motoApi(`seed?a=${SEED}`);
  const admin = await createUser(peer.endpoint, 'lockstep-admin', ['*']);
  const reader = await createUser(peer.endpoint, 'lockstep-reader', READ_ONLY_ACTIONS);
  const readerRoleArn = await createRole(peer.endpoint, 'lockstep-reader-role', READ_ONLY_ACTIONS);
  const emptyRoleArn = await createRole(peer.endpoint, 'lockstep-empty-role', []);
  const hopRoleArn = await createRole(peer.endpoint, 'lockstep-hop-role', ['sts:AssumeRole']);
  await peer.motoApi('reset-auth', '0');
  return { admin, reader, readerRoleArn, emptyRoleArn, hopRoleArn };
}

/**
 * Lets the next `count` requests through unauthenticated. moto's IAM enforcement fails on unsigned
 * requests (it reads the Authorization header unconditionally), and sts:AssumeRoleWithWebIdentity
 * is unsigned by design; the role sessions it returns are enforced as usual.
 */
export async function allowUnsignedRequests(peer: AwsPeer, count: number): Promise<void> {
  await peer.motoApi('reset-auth', String(count));
}
