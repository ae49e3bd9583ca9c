import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ValidateFunction } from 'ajv';
import { SovError, ValidationError, type Agent, type CallOptions, type CallOutcome, type CallQuery, type FieldProblem } from '@sov/core';
import { ajvProblems, createAjv } from '@sov/core/internal';
import { compileSchema } from './internal/schemaValidator';
import { checkStandard, isStandardSchema } from './internal/standardSchema';
import type { ServiceContract, ServiceParams, ServiceResult } from './serviceSchema';

/** What a typed client needs of an agent: its `callDetailed` (an `Agent` has it). */
export type ServiceCaller = Pick<Agent, 'callDetailed'>;

/** The params and options of a typed call: the params may be left out when the service's input type allows undefined. */
export type ServiceCallArgs<TParams> = undefined extends TParams
  ? [params?: TParams, options?: CallOptions]
  : [params: TParams, options?: CallOptions];

/**
 * Calls one service of other agents, typed from its contract: the params
 * must be what the input schema accepts, and the result is what the output
 * schema says, checked here against that schema before it is returned.
 */
export interface ServiceClient<TParams, TResult> {
  /** The service's name. */
  readonly service: string;
  /**
   * Calls the service on `target` (an agent id, an endpoint URL, or a query)
   * as `agent.call` does; resolves to the result, checked against the output
   * schema (a reply that breaks it rejects with OUTPUT_INVALID).
   */
  call(target: string | CallQuery, ...args: ServiceCallArgs<TParams>): Promise<TResult>;
  /** Like `call`, but also returns who served the call, its receipt and its execution time (as `agent.callDetailed`). */
  callDetailed(target: string | CallQuery, ...args: ServiceCallArgs<TParams>): Promise<CallOutcome<TResult>>;
}

/** The result check of a client: Ajv's for a JSON Schema, the validator's for a Standard Schema. */
type ResultCheck = { readonly ajv: ValidateFunction } | { readonly standard: StandardSchemaV1 } | undefined;

/** Clients compile output schemas with one Ajv per process (created at the first client that needs it). */
let clientAjv: ReturnType<typeof createAjv> | undefined;

function resultCheckOf(contract: ServiceContract): ResultCheck {
  const schema = contract.outputSchema;
  if (schema === undefined) return undefined;
  if (isStandardSchema(schema)) return { standard: schema };
  clientAjv ??= createAjv();
  // Ajv keeps one schema per $id: another schema object with a known $id (a second copy of a
  // contract's module, say) gets an Ajv of its own instead of a refusal. The same object is compiled once.
  const id = typeof schema === 'object' ? schema.$id : undefined;
  const known = typeof id === 'string' ? clientAjv.getSchema(id) : undefined;
  const ajv = known !== undefined && known.schema !== schema ? createAjv() : clientAjv;
  return { ajv: compileSchema(ajv, schema, `outputSchema of service "${contract.name}"`) };
}

function outputInvalid(service: string, agentId: string, problems: FieldProblem[]): SovError {
  return new SovError(
    'OUTPUT_INVALID',
    `Service "${service}" of ${agentId} answered with output that breaks its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    { details: problems },
  );
}

/**
 * A typed client of one service, from its contract (`defineService`, or the
 * definition the callee registers): params and result are typed from its
 * schemas, and the result is checked against the output schema before it
 * is returned, so its type is never an unchecked cast. For a Standard
 * Schema output, the result is the validator's output (transforms applied).
 * The output schema is compiled here, once; a bad one throws INVALID_INPUT.
 *
 * @example
 * const translate = defineService({
 *   name: 'translate',
 *   inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
 *   outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
 * });
 * const client = serviceClient(agent, translate);
 * const { text } = await client.call({ capability: 'translate', maxPrice: 5 }, { text: 'bonjour' }); // text: string
 */
export function serviceClient<const C extends ServiceContract>(agent: ServiceCaller, contract: C): ServiceClient<ServiceParams<C>, ServiceResult<C>> {
  const c = contract as ServiceContract | undefined;
  if (typeof c?.name !== 'string' || c.name.length === 0) {
    throw new ValidationError('service contract', [{ path: '/name', message: 'must be the name of the service (a non-empty string)' }]);
  }
  const service = c.name;
  const check = resultCheckOf(c);

  async function callDetailed(target: string | CallQuery, params?: unknown, options: CallOptions = {}): Promise<CallOutcome<ServiceResult<C>>> {
    const outcome = await agent.callDetailed<unknown>(target, service, params, options);
    if (check === undefined) return outcome as CallOutcome<ServiceResult<C>>;
    if ('ajv' in check) {
      if (!check.ajv(outcome.result)) throw outputInvalid(service, outcome.agentId, ajvProblems(check.ajv.errors));
      return outcome as CallOutcome<ServiceResult<C>>;
    }
    const checked = await checkStandard(check.standard, outcome.result);
    if (!checked.ok) throw outputInvalid(service, outcome.agentId, checked.problems);
    return { ...outcome, result: checked.value as ServiceResult<C> };
  }

  return {
    service,
    call: async (target, params?: unknown, options?: CallOptions) => (await callDetailed(target, params, { receipt: false, ...options })).result,
    callDetailed: (target, params?: unknown, options?: CallOptions) => callDetailed(target, params, options),
  };
}
