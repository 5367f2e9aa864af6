import { buildApiVersion, buildQuery, buildResourceLabel, buildResourcePath } from './kube-paths.js';
import { CoreResources, type Resource } from './kube-port.js';

const widget: Resource = { group: 'e2e.lockstep.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

describe('buildResourcePath', () => {
  it('builds core, grouped, namespaced and cluster-scoped paths', () => {
    expect(buildResourcePath(CoreResources.secret, { namespace: 'a', name: 'db' })).toBe('/api/v1/namespaces/a/secrets/db');
    expect(buildResourcePath(CoreResources.secret, { namespace: 'a' })).toBe('/api/v1/namespaces/a/secrets');
    expect(buildResourcePath(CoreResources.secret)).toBe('/api/v1/secrets');
    expect(buildResourcePath(CoreResources.namespace, { name: 'a', namespace: 'ignored' })).toBe('/api/v1/namespaces/a');
    expect(buildResourcePath(CoreResources.lease, { namespace: 'kube-system', name: 'l' }))
      .toBe('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l');
    expect(buildResourcePath(widget, { namespace: 'a', name: 'w', subresource: 'status' }))
      .toBe('/apis/e2e.lockstep.dev/v1/namespaces/a/widgets/w/status');
  });

  it('escapes names and refuses a named namespaced object without namespace', () => {
    expect(buildResourcePath(CoreResources.secret, { namespace: 'a', name: 'x/y' })).toBe('/api/v1/namespaces/a/secrets/x%2Fy');
    expect(() => buildResourcePath(CoreResources.secret, { name: 'db' })).toThrow(/namespace required/);
    expect(() => buildResourcePath(CoreResources.secret, { namespace: 'a', name: '' })).toThrow(/empty/);
  });
});

describe('helpers', () => {
  it('builds apiVersion, labels and queries', () => {
    expect(buildApiVersion(CoreResources.secret)).toBe('v1');
    expect(buildApiVersion(widget)).toBe('e2e.lockstep.dev/v1');
    expect(buildResourceLabel(CoreResources.secret)).toBe('secrets');
    expect(buildResourceLabel(widget, 'status')).toBe('widgets.e2e.lockstep.dev/status');
    expect(buildQuery({ a: 'x y', b: undefined, c: true, d: 5 })).toBe('?a=x+y&c=true&d=5');
    expect(buildQuery({ b: undefined })).toBe('');
  });
});
