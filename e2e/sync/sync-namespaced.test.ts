// The sync suite (sync-suite.ts) with the operator holding the chart's namespaced Roles only
// (rbac.namespacedOnly: no ClusterRole at all, --no-cluster-stores).
import { syncSuite } from './sync-suite.js';

syncSuite('chart-namespaced');
