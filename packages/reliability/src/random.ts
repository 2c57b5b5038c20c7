// Every chaos decision is drawn from a seeded PRNG (mulberry32), so a seed replays the same
// scenario (mail, deletions, moves and which fault strikes when). Timing between the emulators
// and the engine still varies run to run; the end state must not. The generator is the one
// @threadlink/testing exports (its tests pin the sequence, so a seed here keeps its meaning).
export { seededRandom, type SeededRandom } from '@threadlink/testing';
