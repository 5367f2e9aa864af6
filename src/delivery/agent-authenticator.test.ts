import { parseServiceAccount } from './agent-authenticator.js';

describe('parseServiceAccount', () => {
  it('reads namespace, ServiceAccount and the bound pod', () => {
    expect(parseServiceAccount('system:serviceaccount:team-a:billing', {
      'authentication.kubernetes.io/pod-name': ['app-1'], 'authentication.kubernetes.io/pod-uid': ['u-1'],
    })).toEqual({ namespace: 'team-a', serviceAccount: 'billing', pod: { name: 'app-1', uid: 'u-1' } });
  });

  it('refuses users that are not ServiceAccounts', () => {
    expect(parseServiceAccount('admin')).toBeUndefined();
    expect(parseServiceAccount('system:serviceaccount:only-namespace')).toBeUndefined();
    expect(parseServiceAccount(undefined)).toBeUndefined();
  });
});
