// A host's file as a web stream made on demand, for tests of outgoing attachments: random bytes,
// 64 KiB a pull, so the test itself holds no copy of the file — only its digest, the count of
// bytes handed out and whether the reader cancelled.
import { createHash, randomBytes } from 'node:crypto';

export interface GeneratedStream {
  stream: ReadableStream<Uint8Array>;
  /** Bytes handed out so far. */
  produced(): number;
  cancelled(): boolean;
  /** SHA-256 of what was handed out (call once, after the reader is done). */
  sha256(): string;
}

export function generatedStream(size: number, chunkBytes = 64 * 1024): GeneratedStream {
  const hash = createHash('sha256');
  let produced = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= size) {
        controller.close();
        return;
      }
      const chunk = randomBytes(Math.min(chunkBytes, size - produced));
      produced += chunk.byteLength;
      hash.update(chunk);
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, produced: () => produced, cancelled: () => cancelled, sha256: () => hash.digest('hex') };
}
