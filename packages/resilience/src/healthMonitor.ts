import { systemClock, toSovError, type Clock, type EndpointRegistrar, type Logger } from '@sov/core';
import type { Dispose } from './policy';

/** Which endpoint route a check feeds: `/health` (the process is alive and well) or `/ready` (it should get traffic). */
export type HealthAffects = 'health' | 'ready';

/** A check's verdict: a boolean, or a verdict with details shown in /health or /ready. */
export type HealthCheckResult = boolean | { ok: boolean; detail?: unknown };

/** One check the monitor runs periodically. */
export interface HealthCheck {
  name: string;
  run(): HealthCheckResult | Promise<HealthCheckResult>;
  /** @default 'ready' */
  affects?: HealthAffects;
  /** Releases what the check holds (an event-loop histogram, for instance). */
  dispose?(): void;
}

/** The last result of one check. */
export interface CheckStatus {
  ok: boolean;
  detail?: unknown;
  /** Clock time of the run. */
  checkedAt: number;
  durationMs: number;
  affects: HealthAffects;
}

/** The outcome of one round of checks. */
export interface HealthReport {
  healthy: boolean;
  /** Clock time of the round. */
  checkedAt: number;
  checks: Record<string, CheckStatus>;
}

/** Options of a HealthMonitor. */
export interface HealthMonitorOptions {
  /** Period of the checks in ms. @default 30000 */
  intervalMs?: number;
  /** Time budget of one check in ms; a check that takes longer fails. @default 5000 */
  checkTimeoutMs?: number;
  /** @default the system clock */
  clock?: Clock;
  /** Where failed checks are logged. @default no logging */
  logger?: Logger;
}

interface Entry {
  check: HealthCheck;
  affects: HealthAffects;
  status: CheckStatus | undefined;
}

/**
 * Runs health checks periodically (on an injected clock), keeps their last
 * results and mirrors them into the agent endpoint's `/health` and `/ready`
 * (cheap: the endpoint reads the last results, it does not run the checks).
 * A round that turns unhealthy calls the `onUnhealthy` listeners.
 *
 * @example
 * const monitor = new HealthMonitor({ intervalMs: 30_000 });
 * monitor.addCheck(eventLoopLagCheck({ maxLagMs: 200 }));
 * monitor.addCheck(registryCheck(registry, agentId));
 * monitor.onUnhealthy((report) => log.warn('unhealthy', report));
 * monitor.attach(ctx.endpoint);
 * monitor.start();
 */
export class HealthMonitor {
  /** Period of the checks in ms. */
  readonly intervalMs: number;
  private readonly checkTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly unhealthyListeners = new Set<(report: HealthReport) => void>();
  private readonly recoveredListeners = new Set<(report: HealthReport) => void>();
  private registrar: EndpointRegistrar | undefined;
  private timer: unknown;
  private running = false;
  private round: Promise<HealthReport> | undefined;
  private lastReport: HealthReport | undefined;

  constructor(options: HealthMonitorOptions = {}) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    if (!(this.intervalMs > 0)) throw new RangeError(`HealthMonitor intervalMs must be > 0, got ${this.intervalMs}`);
  }

  /** The last round's report; undefined before the first. */
  get report(): HealthReport | undefined {
    return this.lastReport;
  }

  /** Adds a check (replacing one of the same name); mirrored into the endpoint when attached. */
  addCheck(check: HealthCheck): void {
    this.entries.get(check.name)?.check.dispose?.();
    const entry: Entry = { check, affects: check.affects ?? 'ready', status: undefined };
    this.entries.set(check.name, entry);
    if (this.registrar) this.mirror(this.registrar, entry);
  }

  /** Mirrors every check, present and future, into the endpoint's `/health` or `/ready`. Call before the endpoint listens. */
  attach(registrar: EndpointRegistrar): void {
    this.registrar = registrar;
    for (const entry of this.entries.values()) this.mirror(registrar, entry);
  }

  /** Runs the checks now, then every `intervalMs` until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops the periodic checks and releases what the checks hold. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const entry of this.entries.values()) entry.check.dispose?.();
  }

  /** Runs every check once now (joining a round already running) and returns the report. */
  check(): Promise<HealthReport> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Subscribes to rounds that find the agent unhealthy after a healthy one (or as the first); returns a function that unsubscribes. */
  onUnhealthy(listener: (report: HealthReport) => void): Dispose {
    this.unhealthyListeners.add(listener);
    return () => this.unhealthyListeners.delete(listener);
  }

  /** Subscribes to rounds that find the agent healthy again; returns a function that unsubscribes. */
  onRecovered(listener: (report: HealthReport) => void): Dispose {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    await this.check();
    if (this.running) this.timer = this.clock.setTimeout(() => void this.tick(), this.intervalMs);
  }

  private mirror(registrar: EndpointRegistrar, entry: Entry): void {
    const read = () => {
      const s = entry.status;
      if (!s) return { ok: true, detail: 'not checked yet' };
      return { ok: s.ok, detail: { ...(s.detail === undefined ? {} : { detail: s.detail }), checkedAt: new Date(s.checkedAt).toISOString() } };
    };
    if (entry.affects === 'health') registrar.addHealthCheck(entry.check.name, read);
    else registrar.addReadinessCheck(entry.check.name, read);
  }

  private async runRound(): Promise<HealthReport> {
    const checkedAt = this.clock.now();
    const checks: Record<string, CheckStatus> = {};
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        const started = this.clock.now();
        const verdict = await this.runOne(entry.check);
        entry.status = { ...verdict, checkedAt: started, durationMs: this.clock.now() - started, affects: entry.affects };
        checks[entry.check.name] = entry.status;
        if (!verdict.ok) this.logger?.warn('health check failed', { check: entry.check.name, detail: verdict.detail });
      }),
    );
    const report: HealthReport = { healthy: Object.values(checks).every((c) => c.ok), checkedAt, checks };
    const wasHealthy = this.lastReport?.healthy ?? true;
    this.lastReport = report;
    const listeners = !report.healthy && wasHealthy ? this.unhealthyListeners : report.healthy && !wasHealthy ? this.recoveredListeners : undefined;
    for (const listener of listeners ?? []) {
      try {
        listener(report);
      } catch (e) {
        this.logger?.error('health listener failed', { error: toSovError(e).message });
      }
    }
    return report;
  }

  private async runOne(check: HealthCheck): Promise<{ ok: boolean; detail?: unknown }> {
    let timer: unknown;
    try {
      const verdict = await Promise.race([
        Promise.resolve().then(() => check.run()),
        new Promise<HealthCheckResult>((resolve) => {
          timer = this.clock.setTimeout(() => resolve({ ok: false, detail: `check timed out after ${this.checkTimeoutMs} ms` }), this.checkTimeoutMs);
        }),
      ]);
      return typeof verdict === 'boolean' ? { ok: verdict } : verdict;
    } catch (e) {
      return { ok: false, detail: toSovError(e).message };
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
  }
}
