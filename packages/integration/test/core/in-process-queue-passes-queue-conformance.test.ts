// The in-process queue passes the JobQueue conformance suite every queue must pass.
import { inProcessQueue } from '@threadlink/core';
import { runQueueConformance } from '@threadlink/testing/conformance';

runQueueConformance({
  name: 'in-process',
  // Short backoff: the retry cases wait for it in real time.
  makeQueue: ({ onFailed }) => inProcessQueue({ backoff: { baseMs: 10, maxMs: 40 }, onFailed }),
});
