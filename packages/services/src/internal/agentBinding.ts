import {
  SovError,
  createLogger,
  systemClock,
  toSovError,
  type AgentContext,
  type Clock,
  type Logger,
  type RegistrationContribution,
  type ServiceListing,
} from '@sov/core';
import type { ServiceRouter, ServiceRouterOptions } from '../serviceRouter';
import type { CompiledService } from './compiledService';

/** What the agent's registry record may hold: the registry's own limits. */
const MAX_LISTED = 64;
const MAX_DESCRIPTION = 1024;

/**
 * A router's side of the agent it serves: the clock and logger it uses (the
 * agent's once attached, unless the options name their own; the system clock
 * and a silent logger standalone), callers' stakes from the agent's registry,
 * the registry record's services, and what attaching wires into the agent.
 */
export class AgentBinding {
  private context: AgentContext | undefined;
  private currentClock: Clock;
  private currentLogger: Logger | undefined;
  /** Delegates to the current clock: the agent's once attached. */
  readonly clock: Clock = {
    now: () => this.currentClock.now(),
    setTimeout: (fn, ms) => this.currentClock.setTimeout(fn, ms),
    clearTimeout: (handle) => this.currentClock.clearTimeout(handle),
  };

  constructor(
    private readonly options: ServiceRouterOptions,
    /** The router's services by name, in registration order. */
    private readonly services: ReadonlyMap<string, CompiledService>,
  ) {
    this.currentClock = options.clock ?? systemClock;
    this.currentLogger = options.logger;
  }

  /** The router's logger: the options', the agent's (a child) once attached, else a silent one made when first needed. */
  get logger(): Logger {
    return (this.currentLogger ??= createLogger({ silent: true }));
  }

  /** A caller's stake: from the options' `getStake`, else from the agent's registry. */
  readStake(agentId: string): Promise<number> {
    if (this.options.getStake) return this.options.getStake(agentId);
    const registry = this.context?.registry;
    if (!registry) return Promise.reject(new SovError('UNAVAILABLE', 'there is no registry to read stakes from (pass getStake to a standalone router)'));
    return registry.getStake(agentId).then((b) => b.stake);
  }

  /** A service was registered: an attached router tells the registry at once (services added in one tick share one registration). */
  registered(service: CompiledService): void {
    const context = this.context;
    if (!context) return;
    context.logger.info('service registered', { service: service.name, price: service.price, minStake: service.minStake });
    context.refreshRegistration().catch((e: unknown) => {
      this.logger.warn('could not publish the new service to the registry; the next registration will', {
        service: service.name,
        error: toSovError(e).message,
      });
    });
  }

  /** What the router adds to the agent's registry record: its services and, unless turned off, their names as capabilities. */
  registration(): RegistrationContribution {
    const listed = [...this.services.values()].slice(0, MAX_LISTED);
    const services: ServiceListing[] = listed.map((s) => ({
      name: s.name,
      ...(s.description ? { description: s.description.slice(0, MAX_DESCRIPTION) } : {}),
      ...(s.price === undefined ? {} : { price: s.price }),
      requiresStake: s.requiresStake,
      minStake: s.minStake,
    }));
    return this.options.advertiseCapabilities === false ? { services } : { services, capabilities: listed.map((s) => s.name) };
  }

  /**
   * Wires `router` into the agent: the agent's clock and logger (unless the
   * options set them), the `/rpc` handler, `GET /catalog`, the registry
   * record and `/metrics`; warns when stake-gated services have no stake source.
   */
  attach(context: AgentContext, router: ServiceRouter): void {
    this.context = context;
    if (!this.options.clock) this.currentClock = context.clock;
    if (!this.options.logger) this.currentLogger = context.logger.child({ component: 'services' });
    router.metrics.register(context.metrics);
    context.setRequestHandler((request, ctx) => router.execute(request, ctx));
    context.endpoint.addRoute({
      method: 'GET',
      url: this.options.catalogPath ?? '/catalog',
      signed: false,
      handler: () => ({ body: { success: true, agentId: context.agentId, services: router.getServiceCatalog() } }),
    });
    context.contributeRegistration(() => router.registration());
    if (!this.options.getStake && !context.registry && [...this.services.values()].some((s) => s.requiresStake)) {
      this.logger.warn('stake-gated services but no registry to read stakes from: their calls will fail with UNAVAILABLE');
    }
  }
}
