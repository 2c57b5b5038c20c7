// The scenarios, in the order `pnpm bench` runs them.
import type { Scenario } from '../lib/scenario.js';
import { apiCost } from './api-cost.js';
import { backfill } from './backfill.js';
import { baseline } from './baseline.js';
import { connect } from './connect.js';
import { latency } from './latency.js';
import { matching } from './matching.js';
import { orgConnect } from './org-connect.js';
import { scale } from './scale.js';
import { store } from './store.js';
import { workers } from './workers.js';

export const scenarios: Scenario[] = [latency, apiCost, scale, backfill, connect, matching, store, baseline, workers, orgConnect];
