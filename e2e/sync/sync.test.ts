// The sync suite (sync-suite.ts) with the operator holding the chart's cluster-wide RBAC.
import { syncSuite } from './sync-suite.js';

syncSuite('chart');
