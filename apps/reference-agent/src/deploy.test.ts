import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { CONFIG_ENV, createLogger } from '@sov/core';
import { RequestVerifier } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';

const app = join(__dirname, '..');
const read = (file: string) => readFileSync(join(app, file), 'utf8');
/** Every SOV_* variable the SDK reads: the agent config, plus the app's own. */
const KNOWN_ENV = new Set([...Object.values(CONFIG_ENV), 'SOV_DATA_DIR', 'SOV_KEY_FILE', 'SOV_KEY_PASSPHRASE', 'SOV_OPERATOR_TOKEN', 'SOV_CONFIG_FILE', 'SOV_REGISTRY_PUBLIC_URL', 'SOV_REGISTRY_DATABASE_URL']);
const tsupEntries = /entry: \[([^\]]+)\]/.exec(read('tsup.config.ts'))![1]!.match(/src\/(\w+)\.ts/g)!.map((e) => e.replace('src/', 'dist/').replace('.ts', '.js'));

type Workload = { kind: string; spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } } } };
type Container = { env?: Array<{ name: string }>; ports?: Array<{ containerPort: number }>; livenessProbe: { httpGet: unknown }; readinessProbe: { httpGet: unknown }; command?: string[] };

describe('the deployment files', () => {
  it('Dockerfile: runs a file the build makes, exposes the agent port, checks /health', () => {
    const dockerfile = read('Dockerfile');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(tsupEntries).toContain(cmd[1]);
    expect(dockerfile).toMatch(/^EXPOSE 8080 7000$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/health/);
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const name of dockerfile.match(/SOV_[A-Z_]+/g)!) expect(KNOWN_ENV).toContain(name);
  });

  it('docker-compose: registry and agent with health checks, known settings, and an agent that waits for the registry', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, { environment?: string[]; healthcheck?: { test: string[] }; depends_on?: unknown; command?: string[] }> };
    const { registry, agent } = compose.services;
    expect(registry!.command!.join(' ')).toMatch(/sov-registry\.mjs --host 0\.0\.0\.0 --port 7000/);
    expect(agent!.depends_on).toEqual({ registry: { condition: 'service_healthy' } });
    for (const service of [registry!, agent!]) {
      expect(service.healthcheck!.test.join(' ')).toMatch(/\/(ready|health)/);
      for (const e of service.environment ?? []) expect(KNOWN_ENV).toContain(e.split('=')[0]);
    }
    expect(agent!.environment).toContain('SOV_REGISTRY_URL=http://registry:7000');
  });

  it('Kubernetes: probes on /health and /ready at the container port, a grace period longer than the shutdown timeout', () => {
    const docs = [...parseAllDocuments(read('k8s/agent.yaml')), ...parseAllDocuments(read('k8s/registry.yaml'))].map((d): Workload => d.toJS() as Workload);
    const workloads = docs.filter((d) => d.kind === 'StatefulSet' || d.kind === 'Deployment');
    expect(workloads).toHaveLength(2);
    expect(workloads.map((w) => w.kind).sort()).toEqual(['Deployment', 'StatefulSet']);
    for (const w of workloads) {
      const spec = w.spec.template.spec;
      const c = spec.containers[0] as Container;
      const port = c.ports![0]!.containerPort;
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port });
      for (const e of c.env ?? []) if (e.name.startsWith('SOV_')) expect(KNOWN_ENV).toContain(e.name);
      const shutdown = (c.env ?? []).find((e) => e.name === 'SOV_SHUTDOWN_TIMEOUT_MS') as { value?: string } | undefined;
      if (shutdown) expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(shutdown.value));
    }
  });
});

describe('the scaled registry (several replicas on one PostgreSQL)', () => {
  type Service = { profiles?: string[]; environment?: string[]; healthcheck?: { test: string[] }; depends_on?: unknown; command?: string[]; deploy?: { replicas?: number }; ports?: unknown };

  it('image: the reference agent ships @sov/registry-postgres, where sov-registry --store postgres finds it (the working directory /app)', () => {
    const manifest = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['@sov/registry-postgres']).toBeDefined();
    expect(read('Dockerfile')).toMatch(/^WORKDIR \/app$/m);
  });

  it('docker-compose --profile scaled: three registry replicas on one PostgreSQL, each healthy only when ready, the default services unchanged', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const registry = compose.services['registry-scaled']!;
    const db = compose.services['registry-db']!;
    expect(registry.profiles).toEqual(['scaled']);
    expect(db.profiles).toEqual(['scaled']);
    expect(compose.services.registry!.profiles).toBeUndefined();
    expect(compose.services.agent!.profiles).toBeUndefined();
    expect(registry.deploy?.replicas).toBe(3);
    // Replicas cannot share one host port; they are reached by service name.
    expect(registry.ports).toBeUndefined();
    expect(registry.command!.join(' ')).toMatch(/sov-registry\.mjs --host 0\.0\.0\.0 --port 7000 --store postgres/);
    expect(registry.depends_on).toEqual({ 'registry-db': { condition: 'service_healthy' } });
    expect(registry.healthcheck!.test.join(' ')).toMatch(/127\.0\.0\.1:7000\/ready/);
    expect(db.healthcheck!.test).toContain('pg_isready');
    const env = Object.fromEntries(registry.environment!.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    for (const name of Object.keys(env)) expect(KNOWN_ENV).toContain(name);
    expect(env.SOV_REGISTRY_DATABASE_URL).toMatch(/^postgres:\/\/sov:.+@registry-db:5432\/sov$/);
    expect(env.SOV_REGISTRY_PUBLIC_URL).toBe('http://registry-scaled:7000');
    expect(Object.keys(compose.volumes)).toContain('registry_db');
  });

  it('Kubernetes (k8s/registry-postgres.yaml): a 3-replica registry Deployment with probes, its Service, and a PostgreSQL Service the database URL names', () => {
    const text = read('k8s/registry-postgres.yaml');
    type Doc = { kind: string; metadata: { name: string }; spec: Record<string, any> };
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Doc);
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const db = docs.find((d) => d.kind === 'StatefulSet')!;
    const service = (name: string) => docs.find((d) => d.kind === 'Service' && d.metadata.name === name)!;
    expect(deployment.spec.replicas).toBe(3);
    const c = deployment.spec.template.spec.containers[0] as Container;
    const env = (c.env ?? []) as Array<{ name: string; valueFrom?: { secretKeyRef: { key: string } } }>;
    const port = c.ports![0]!.containerPort;
    expect(c.command!.join(' ')).toMatch(/sov-registry\.mjs --host 0\.0\.0\.0 --port 7000 --store postgres/);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port });
    for (const e of env) if (e.name.startsWith('SOV_')) expect(KNOWN_ENV).toContain(e.name);
    // The database URL holds a password: from a Secret, never inline.
    expect(env.find((e) => e.name === 'SOV_REGISTRY_DATABASE_URL')?.valueFrom?.secretKeyRef.key).toBe('database-url');
    expect(service('registry-service').spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(service('registry-service').spec.ports[0].targetPort).toBe(port);
    expect(service('registry-db').spec.selector).toEqual(db.spec.template.metadata.labels);
    const pg = db.spec.template.spec.containers[0];
    expect(service('registry-db').spec.ports[0].targetPort).toBe(pg.ports[0].containerPort);
    expect(pg.readinessProbe.exec.command).toContain('pg_isready');
    expect(pg.livenessProbe.exec.command).toContain('pg_isready');
    // The secret the header tells operators to create points at that Service.
    expect(text).toMatch(/database-url='postgres:\/\/sov:\.\.\.@registry-db:5432\/sov'/);
  });
});

describe('the agent entry point (the image CMD)', () => {
  it('registers with the registry named in SOV_REGISTRY_URL and deregisters on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sov-agent-entry-'));
    const registry = await RegistryServer.start({ logger: createLogger({ silent: true }), verifier: new RequestVerifier() });
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'agent.ts')], {
        env: { ...process.env, SOV_REGISTRY_URL: registry.url, SOV_PORT: '0', SOV_DATA_DIR: dataDir, SOV_NAME: 'entry-test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const id = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not running after 15 s: ${out}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue;
            const entry = JSON.parse(line) as { message?: string; id?: string };
            if (entry.message === 'reference agent running' && entry.id) {
              clearTimeout(timer);
              resolve(entry.id);
            }
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
      }).catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
      const page = await (await fetch(`${registry.url}/v1/agents?capability=text.uppercase`)).json() as { agents: Array<{ id: string; name: string }> };
      expect(page.agents).toEqual([expect.objectContaining({ id, name: 'entry-test' })]);
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(((await (await fetch(`${registry.url}/v1/agents?capability=text.uppercase`)).json()) as { total: number }).total).toBe(0);
    } finally {
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
