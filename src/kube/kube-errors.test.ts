import {
  ConflictError, ForbiddenError, GoneError, InvalidError, KubeError, NotFoundError,
  buildKubeError, buildTransportError, isTransientKubeError,
} from './kube-errors.js';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('buildKubeError', () => {
  it.each([
    [404, NotFoundError, 'NotFound'],
    [409, ConflictError, 'AlreadyExists'],
    [410, GoneError, 'Expired'],
    [403, ForbiddenError, 'Forbidden'],
    [422, InvalidError, 'Invalid'],
  ])('maps %i to its class and keeps the server message and reason', (code, cls, reason) => {
    const err = buildKubeError(code, status(code, reason, `secrets "db" says ${reason}`), 'get secrets a/db');
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(KubeError);
    expect(err.status).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(`get secrets a/db: secrets "db" says ${reason}`);
    expect(err.name).toBe(cls.name);
    expect(err.cause).toMatchObject({ code, reason });
  });

  it('keeps other statuses as a plain KubeError', () => {
    const err = buildKubeError(500, status(500, 'InternalError', 'boom'), 'list secrets');
    expect(err.constructor).toBe(KubeError);
    expect(isTransientKubeError(err)).toBe(true);
  });

  it('uses a truncated raw body when the answer is not a Status', () => {
    const err = buildKubeError(502, `<html>${'x'.repeat(1000)}</html>`, 'get secrets a/b');
    expect(err.message.length).toBeLessThan(400);
    expect(err.message.startsWith('get secrets a/b: <html>')).toBe(true);
    expect(buildKubeError(503, '', 'get x').message).toBe('get x: HTTP 503');
  });
});

describe('buildTransportError / isTransientKubeError', () => {
  it('wraps the network error as cause with status 0', () => {
    const cause = new TypeError('fetch failed');
    const err = buildTransportError('watch secrets', cause);
    expect(err.status).toBe(0);
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('fetch failed');
    expect(isTransientKubeError(err)).toBe(true);
  });

  it('treats 429 as transient and 4xx as not', () => {
    expect(isTransientKubeError(buildKubeError(429, '', 'x'))).toBe(true);
    expect(isTransientKubeError(buildKubeError(404, '', 'x'))).toBe(false);
    expect(isTransientKubeError(new Error('x'))).toBe(false);
  });
});
