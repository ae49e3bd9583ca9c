import type { Clock } from '../clock';
import type { AgentConfig } from '../config';
import { isSovError, toSovError } from '../errors/sovError';
import { TimeoutError } from '../errors/timeoutError';
import type { Logger } from '../logger';
import type { RegistryClient } from '../registryClient';
import type { AgentRegistration, Lease } from '../wire';

/** What the keeper needs of its agent. */
export interface RegistrationHost {
  readonly clock: Clock;
  agentId(): string;
  config(): AgentConfig;
  logger(): Logger;
  registry(): RegistryClient | undefined;
  /** The record to send, as the agent and its contributors make it now. */
  record(): AgentRegistration;
  /** Whether the agent is starting or running (a registration is still wanted). */
  live(): boolean;
  /** Whether the agent is running (the heartbeat goes on). */
  running(): boolean;
  registered(lease: Lease): void;
  heartbeatError(error: Error): void;
}

/** Rejects with TIMEOUT when `work` takes longer than `ms`. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(what, Math.max(0, Math.round(ms)))), Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * An agent's place in its registry: registration at start, the heartbeat
 * that renews its lease (registering again when the registry lost it), the
 * refreshes that send the record again after a change, and deregistration.
 */
export class RegistrationKeeper {
  private isRegistered = false;
  /** The refresh that will run next; calls in the same tick share it. */
  private queuedRefresh: Promise<void> | undefined;
  /** The refresh on its way. */
  private inFlightRefresh: Promise<void> | undefined;
  private heartbeatTimer: unknown;

  constructor(private readonly host: RegistrationHost) {}

  /** Whether the registry holds this agent's lease, as far as the agent knows. */
  get registered(): boolean {
    return this.isRegistered;
  }

  async register(): Promise<void> {
    const { lease } = await this.host.registry()!.register(this.host.record());
    this.isRegistered = true;
    this.host.logger().info('registered', { registry: this.host.config().registryUrl, expiresAt: lease.expiresAt });
    this.host.registered(lease);
  }

  async deregister(): Promise<void> {
    const registry = this.host.registry();
    if (!this.isRegistered || !registry) return;
    this.isRegistered = false;
    await withDeadline(registry.deregister(this.host.agentId()), this.host.config().requestTimeoutMs, 'Deregistration');
    this.host.logger().info('deregistered');
  }

  /** See Agent.refreshRegistration. */
  refresh(): Promise<void> {
    if (!this.isRegistered || !this.host.registry()) return Promise.resolve();
    this.queuedRefresh ??= this.runRefresh(this.inFlightRefresh);
    return this.queuedRefresh;
  }

  startHeartbeat(): void {
    this.heartbeatTimer = this.host.clock.setTimeout(() => void this.beat(), this.host.config().heartbeatIntervalMs);
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.host.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async runRefresh(previous: Promise<void> | undefined): Promise<void> {
    // Let every change made in this tick join this registration.
    await Promise.resolve();
    if (previous) await previous.catch(() => undefined);
    const mine = this.queuedRefresh;
    this.queuedRefresh = undefined;
    this.inFlightRefresh = mine;
    try {
      if (this.isRegistered && this.host.live()) await this.register();
    } finally {
      if (this.inFlightRefresh === mine) this.inFlightRefresh = undefined;
    }
  }

  private async beat(): Promise<void> {
    this.heartbeatTimer = undefined;
    if (!this.host.live()) return;
    const log = this.host.logger();
    try {
      await this.host.registry()!.heartbeat(this.host.agentId());
      this.isRegistered = true;
    } catch (e) {
      const err = toSovError(e);
      this.host.heartbeatError(err);
      if (isSovError(e) && (e.code === 'NOT_FOUND' || e.code === 'LEASE_EXPIRED')) {
        this.isRegistered = false;
        log.warn('lease lost; registering again', { code: e.code });
        try {
          await this.register();
        } catch (again) {
          log.warn('re-registration failed', { error: toSovError(again).message });
        }
      } else {
        log.warn('heartbeat failed', { code: err.code, error: err.message });
      }
    } finally {
      if (this.host.running() && this.heartbeatTimer === undefined) this.startHeartbeat();
    }
  }
}
