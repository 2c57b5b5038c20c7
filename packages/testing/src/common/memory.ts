// Memory figures for tests and benchmarks that prove a path does not buffer a file whole: live
// heap + ArrayBuffer bytes after a forced collection (so what is measured is memory still held,
// not garbage the collector has not reached yet), against a baseline taken at the start.
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

export interface MemoryMeter {
  /** Takes a sample now (collects first). */
  sample(): void;
  /** Peak live heap + ArrayBuffer growth over the baseline, in bytes. */
  readonly peakGrowth: number;
  readonly peakRss: number;
}

function footprint(): number {
  // Twice: V8 frees the memory of the ArrayBuffers a collection found dead concurrently, after it,
  // and process.memoryUsage() still counts what is not freed yet (a sample right after one gc()
  // read 4 MiB of dropped 64 KiB buffers in 9 of 40 tries). The next collection first finishes that.
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

export function memoryMeter(): MemoryMeter {
  const baseline = footprint();
  let peak = baseline;
  let peakRss = process.memoryUsage().rss;
  return {
    sample() {
      peak = Math.max(peak, footprint());
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    },
    get peakGrowth() {
      return peak - baseline;
    },
    get peakRss() {
      return peakRss;
    },
  };
}

/**
 * Reads a stream keeping only a digest, sampling memory every `sampleEvery` chunks — against the
 * baseline of `meter` when one is given (taken before the request, so the server's side counts too).
 */
export async function consumeMeasured(
  stream: ReadableStream<Uint8Array>,
  sampleEvery = Number.POSITIVE_INFINITY,
  meter: MemoryMeter = memoryMeter(),
): Promise<{ sha256: string; bytes: number; chunks: number; peakGrowth: number; peakRss: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    chunks += 1;
    if (chunks % sampleEvery === 0) meter.sample();
  }
  return { sha256: hash.digest('hex'), bytes, chunks, peakGrowth: meter.peakGrowth, peakRss: meter.peakRss };
}
