// Entry for mail provider adapters: the provider conformance suite. It needs vitest; the emulator
// drivers it runs against live in the main entry (`gmailConformanceDriver`, `graphConformanceDriver`).
export * from './provider-conformance/index.js';
