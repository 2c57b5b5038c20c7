export { createMatcher, type Matcher, type MatchingOptions } from './matcher.js';
