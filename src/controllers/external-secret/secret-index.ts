/**
 * The Secret index: which Secrets exist in the watched namespaces, by namespace and name only
 * (`NameCache`, listed and watched as metadata). It answers "does a Secret of this name exist?"
 * from memory, so the first sync of an ExternalSecret needs no GET of its target; only a target
 * that exists but is not in the cache of the Secrets we manage (someone else's, a Merge target,
 * or ours before our watch saw it) is read, and that read is what the ownership check looks at.
 * A Secret costs the index its name and a Set slot (~70 bytes; with uid, resourceVersion, our label
 * and owner annotation it was ~250: 20,000 Secrets ~5 MB); the full Secrets (values as digests)
 * are cached only for the ones we manage.
 */
export const SecretIndexOptions = { metadataOnly: true, namesOnly: true } as const;
