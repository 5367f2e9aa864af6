// The real `google.cloud.secretmanager.v1` protos, as shipped inside @google-cloud/secret-manager
// (service.proto, resources.proto) with their imports from google-gax's bundled googleapis protos,
// loaded with @grpc/proto-loader (through google-gax, the same copy the SDK uses). Both the test
// peer's server and the fixture's admin client are built from them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { grpc, GrpcClient } from 'google-gax';

export const SERVICE_PROTO = 'google/cloud/secretmanager/v1/service.proto';

export interface SecretManagerProto {
  /** The service definition, for grpc.Server#addService. */
  service: grpc.ServiceDefinition;
  /** The generated client constructor, for the admin client. */
  Client: grpc.ServiceClientConstructor;
}

/** The protos folder of the installed @google-cloud/secret-manager. */
export function secretManagerProtosDir(): string {
  const require = createRequire(import.meta.url);
  // main is build/src/index.js; the protos sit in build/protos.
  return join(dirname(require.resolve('@google-cloud/secret-manager')), '../protos');
}

export function loadSecretManagerProto(): SecretManagerProto {
  // loadProto adds google-gax's build/protos (google/api, google/iam, google/protobuf) to includeDirs.
  const root = new GrpcClient({ grpc }).loadProto(secretManagerProtosDir(), SERVICE_PROTO) as Record<string, unknown>;
  const Client = (root as { google: { cloud: { secretmanager: { v1: { SecretManagerService: grpc.ServiceClientConstructor } } } } }).google
    .cloud.secretmanager.v1.SecretManagerService;
  return { service: Client.service, Client };
}
