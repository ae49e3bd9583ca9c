/**
 * Resilience benchmarks, each figure beside its baseline in the same run.
 *
 * 1. Overhead of the full policy stack. The unit of work is a real call: an
 *    HTTP POST /rpc to a peer on loopback through core's PeerClient (JSON in,
 *    JSON out). Subject: `callPeer` (bulkhead → retry → circuit breaker →
 *    timeout with a cancelling AbortSignal → the call). Baseline: the bare
 *    PeerClient call. 8 calls in flight.
 *
 *    Beside it, as a diagnostic, cockatiel's own wrap() of the same four
 *    policies (its timeout passes the call a signal), to show the floor the
 *    cockatiel layers set.
 *
 * 2. Isolation. p99 latency of calls to a healthy peer (8 in flight) while 8
 *    other callers keep calling a peer that hangs (through its own breaker,
 *    timeout and bulkhead), against the same calls with no hung peer at all.
 */
import { Agent, createLogger, type AgentRequest } from '@sov/core';
import { FaultyPeer } from '@sov/testing';
import { compareThroughput, report, reportPlain } from '@sov/tooling/bench';
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  handleAll,
  retry,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  wrap as cockatielWrap,
} from 'cockatiel';
import { resilience } from '@sov/resilience';

const request: AgentRequest = { service: 'quote', params: { symbol: 'SOV', amount: 12.5, tags: ['a', 'b', 'c'] } };

async function main(): Promise<void> {
  const healthy = await FaultyPeer.start({ handler: (r) => ({ echoed: r.params, at: 1 }) });
  const other = await FaultyPeer.start({ handler: (r) => ({ echoed: r.params, at: 2 }) });
  const hung = await FaultyPeer.start();
  hung.inject({ type: 'hang' });

  const agent = new Agent({ name: 'bench', env: {}, logger: createLogger({ silent: true }) });
  const res = agent.use(
    resilience({
      health: false,
      timeoutMs: 100,
      retry: { maxAttempts: 2, initialDelay: 20 },
      breaker: { failureThreshold: 5, recoveryTimeout: 250 },
      bulkhead: { limit: 64, queue: 64 },
    }),
  );
  await agent.start();
  const peers = agent.peers;

  // 1. Throughput: full stack vs bare call.
  const throughput = await compareThroughput(
    () => res.callPeer(healthy.url, request),
    () => peers.call(healthy.url, request),
    { concurrency: 8, rounds: 16, roundMs: 400, warmupMs: 1000 },
  );
  report({
    name: 'peer call through retry+breaker+timeout+bulkhead',
    unit: 'calls/s',
    value: throughput.subject.opsPerSec,
    baselineName: 'bare PeerClient call',
    baseline: throughput.baseline.opsPerSec,
    ratio: throughput.ratio,
    target: { better: 'higher', ratio: 0.95 },
  });

  // Where the floor is: cockatiel's own composition of the same four policies over the same call, against the bare
  // call. Our stack runs on cockatiel's bulkhead, retry and breaker, so their async frames are a cost it cannot shed.
  const cockatielStack = cockatielWrap(
    bulkhead(64, 64),
    retry(handleAll, { maxAttempts: 1 }),
    circuitBreaker(handleAll, { halfOpenAfter: 250, breaker: new ConsecutiveBreaker(5) }),
    cockatielTimeout(100, TimeoutStrategy.Aggressive),
  );
  const floor = await compareThroughput(
    () => cockatielStack.execute(({ signal }) => peers.call(healthy.url, request, { timeoutMs: 100, signal })),
    () => peers.call(healthy.url, request),
    { concurrency: 8, rounds: 6, roundMs: 500, warmupMs: 500 },
  );
  report({
    name: '  (diagnostic) cockatiel wrap(bulkhead, retry, breaker, timeout)',
    unit: 'calls/s',
    value: floor.subject.opsPerSec,
    baselineName: 'bare PeerClient call',
    baseline: floor.baseline.opsPerSec,
    ratio: floor.ratio,
  });

  // 2. Isolation: healthy-peer p99 while another peer hangs vs no hung peer.
  // The measured side sets which peer B the background callers load.
  let hungLoad = false;
  let stop = false;
  const outcomes = { calls: 0, ok: 0, timeouts: 0, circuitOpen: 0, other: 0 };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const backgroundCaller = async () => {
    while (!stop) {
      const toHung = hungLoad;
      try {
        await res.callPeer(toHung ? hung.url : other.url, request);
        if (toHung) outcomes.ok++;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'TIMEOUT') outcomes.timeouts++;
        else if (code === 'CIRCUIT_OPEN') outcomes.circuitOpen++;
        else outcomes.other++;
      }
      if (toHung) outcomes.calls++;
      // Callers of a real service do not spin: each sends again shortly after its answer.
      await pause(1);
    }
  };
  let probes = 0;
  res.breakerFor(hung.url).onHalfOpen(() => probes++);
  const background = Array.from({ length: 8 }, backgroundCaller);
  const isolation = await compareThroughput(
    () => {
      hungLoad = true;
      return res.callPeer(healthy.url, request);
    },
    () => {
      hungLoad = false;
      return res.callPeer(healthy.url, request);
    },
    { concurrency: 8, rounds: 8, roundMs: 600 },
  );
  stop = true;
  await Promise.all(background);
  report({
    name: 'p99 of healthy-peer calls while another peer hangs',
    unit: 'ms',
    value: isolation.subject.p99Ms,
    baselineName: 'same load, no hung peer',
    baseline: isolation.baseline.p99Ms,
    target: { better: 'lower', ratio: 1.2 },
  });
  reportPlain('  p50 while another peer hangs', isolation.subject.p50Ms, 'ms');
  reportPlain('  p50 with no hung peer', isolation.baseline.p50Ms, 'ms');
  reportPlain('  calls to the hung peer', outcomes.calls, 'calls');
  reportPlain('    ended CIRCUIT_OPEN (refused at once, or after a probe timed out)', outcomes.circuitOpen, 'calls');
  reportPlain('    ended TIMEOUT (100 ms per attempt)', outcomes.timeouts, 'calls');
  reportPlain('    other outcomes', outcomes.other + outcomes.ok, 'calls');
  reportPlain('  half-open probes let through to the hung peer', probes, '');

  await agent.shutdown();
  await healthy.close();
  await other.close();
  await hung.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
