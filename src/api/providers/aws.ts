import { z } from 'zod';
import { SecretKeySelector, ServiceAccountSelector } from '../common-schemas.js';

const URL_PATTERN = /^https?:\/\/[^\s/?#]+(\/[^\s]*)?$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;

export const AwsStaticCredentials = z
  .object({
    accessKeyIDSecretRef: SecretKeySelector.meta({ description: 'The key of a Secret holding the access key ID.' }),
    secretAccessKeySecretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding the secret access key.',
    }),
    sessionTokenSecretRef: SecretKeySelector.optional().meta({
      description: 'The key of a Secret holding a session token, for temporary credentials.',
    }),
  })
  .meta({ description: 'Static IAM access keys read from Kubernetes Secrets.' });
export type AwsStaticCredentials = z.infer<typeof AwsStaticCredentials>;

export const AwsJwtAuth = z
  .object({
    serviceAccountRef: ServiceAccountSelector.meta({
      description:
        'The ServiceAccount whose token (audience sts.amazonaws.com unless audiences says otherwise) is exchanged ' +
        'by STS AssumeRoleWithWebIdentity for credentials of `role`.',
    }),
  })
  .meta({ description: 'IRSA-style web identity: a ServiceAccount token exchanged for a role session. Needs `role`.' });
export type AwsJwtAuth = z.infer<typeof AwsJwtAuth>;

export const AwsAuth = z
  .object({
    secretRef: AwsStaticCredentials.optional(),
    jwt: AwsJwtAuth.optional(),
  })
  .meta({
    description: 'How the store authenticates to AWS. Set exactly one method; there is no default credential chain.',
    minProperties: 1,
    maxProperties: 1,
  });
export type AwsAuth = z.infer<typeof AwsAuth>;

/** An STS session tag: a key of 1 to 128 and a value of 0 to 256 characters, from the set STS allows. */
export const AwsSessionTag = z
  .object({
    key: z.string().min(1).max(128).regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u).meta({ description: 'The tag key.' }),
    value: z.string().max(256).regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u).meta({ description: 'The tag value.' }),
  })
  .meta({ description: 'A session tag passed to sts:AssumeRole of `role`.' });
export type AwsSessionTag = z.infer<typeof AwsSessionTag>;

export const AwsProviderSpec = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]+$/)
      .meta({ description: 'The AWS region of the secrets, e.g. eu-west-1.' }),
    endpoint: z.string().regex(URL_PATTERN).optional().meta({
      description:
        'A custom Secrets Manager endpoint URL (VPC endpoint, FIPS endpoint or an emulator). Also used for STS unless stsEndpoint is set.',
    }),
    stsEndpoint: z.string().regex(URL_PATTERN).optional().meta({
      description: 'A custom STS endpoint URL. Defaults to `endpoint` when that is set, else the regional STS endpoint.',
    }),
    role: z.string().regex(ROLE_ARN_PATTERN).optional().meta({
      description:
        'The ARN of an IAM role to use. With `auth.secretRef` the keys (or the last of `additionalRoles`) assume it ' +
        '(sts:AssumeRole); with `auth.jwt` it is the role the ServiceAccount token is exchanged for (required).',
    }),
    additionalRoles: z.array(z.string().regex(ROLE_ARN_PATTERN)).max(10).optional().meta({
      description:
        'Role chaining, as External Secrets Operator spells it: IAM role ARNs assumed in order (sts:AssumeRole), each with the ' +
        'credentials of the one before. With `auth.secretRef` the keys assume the first and the last is followed by `role`; ' +
        'with `auth.jwt` they follow the web identity session of `role`.',
    }),
    externalID: z.string().min(2).max(1224).regex(/^[\w+=,.@:/-]+$/).optional().meta({
      description: "The external ID sent when `role` is assumed (the role's trust policy may require it). Needs `auth.secretRef` and `role`.",
    }),
    sessionTags: z.array(AwsSessionTag).max(50).optional().meta({
      description: 'Session tags sent when `role` is assumed (the trust policy must allow sts:TagSession). Needs `auth.secretRef` and `role`.',
    }),
    transitiveTagKeys: z.array(z.string().min(1).max(128)).max(50).optional().meta({
      description: 'Keys of `sessionTags` that stay on the session through further role chaining.',
    }),
    auth: AwsAuth,
  })
  .meta({ description: 'AWS Secrets Manager.' });
export type AwsProviderSpec = z.infer<typeof AwsProviderSpec>;
