/**
 * Reproducible randomness for tests: the same seed gives the same sequence on every run. The PRNG
 * is @lbkit/memberlist's (its simulations use it), imported from source so no build is needed.
 */
export { seededRandom } from '../packages/memberlist/src/clock.js';
