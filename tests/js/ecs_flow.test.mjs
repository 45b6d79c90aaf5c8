// aws-sdk-js v3 against ecs-emulator: the full flow of issue 5 with @aws-sdk/client-ecs and
// @aws-sdk/client-servicediscovery (disableHostPrefix for DiscoverInstances), checked with dig.
// Run: ECS_EMULATOR_BINARY=build/emulator/ecs-emulator node --test tests/js/ecs_flow.test.mjs
// (after `npm ci` in tests/js). A missing node_modules makes the imports, and so the test, fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ECSClient, CreateClusterCommand, RegisterTaskDefinitionCommand, CreateServiceCommand,
  DescribeServicesCommand, ListTasksCommand, DescribeTasksCommand, UpdateServiceCommand,
  DeleteServiceCommand, waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import {
  ServiceDiscoveryClient, CreatePrivateDnsNamespaceCommand, GetOperationCommand, CreateServiceCommand as
  CreateDiscoveryServiceCommand, DiscoverInstancesCommand,
} from '@aws-sdk/client-servicediscovery';

const binary = process.env.ECS_EMULATOR_BINARY;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const network = { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'DISABLED' } };

async function until(fn, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDaemon() {
  assert.ok(binary && existsSync(binary), 'set ECS_EMULATOR_BINARY to the ecs-emulator binary');
  const dir = mkdtempSync(join(tmpdir(), 'emu-js-'));
  const ready = join(dir, 'ready.json');
  const proc = spawn(binary, ['serve', '--dns-listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0', '--state',
    ':memory:', '--ready-file', ready, '--task-cidr', '10.99.0.0/24'], { stdio: 'ignore' });
  const info = await until(() => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')), 'the ready file');
  return {
    proc, dir,
    api: `http://${info.api}`,
    dnsPort: info.dns.split(':').pop(),
    stop() { proc.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

function dig(d, name, type = 'A') {
  const out = execFileSync('dig', ['@127.0.0.1', '-p', d.dnsPort, name, type, '+short', '+time=2', '+tries=1'],
    { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).sort();
}

function digStatus(d, name) {
  const out = execFileSync('dig', ['@127.0.0.1', '-p', d.dnsPort, name, 'A', '+time=2', '+tries=1'],
    { encoding: 'utf8' });
  return /status: (\w+)/.exec(out)?.[1];
}

test('ECS service with serviceRegistries: records follow the tasks', async () => {
  const d = await startDaemon();
  try {
    const common = { endpoint: d.api, region: 'us-east-1', credentials, maxAttempts: 1 };
    const ecs = new ECSClient(common);
    const sd = new ServiceDiscoveryClient({ ...common, disableHostPrefix: true });

    const op = await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'js.local', Vpc: 'vpc-1' }));
    const nsId = (await sd.send(new GetOperationCommand({ OperationId: op.OperationId }))).Operation.Targets.NAMESPACE;
    const registry = (await sd.send(new CreateDiscoveryServiceCommand({
      Name: 'web', NamespaceId: nsId, HealthCheckCustomConfig: { FailureThreshold: 1 },
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }, { Type: 'SRV', TTL: 10 }] },
    }))).Service;
    await ecs.send(new CreateClusterCommand({ clusterName: 'js' }));
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: 'js-web', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512',
      containerDefinitions: [{
        name: 'web', image: 'nginx', portMappings: [{ containerPort: 8080 }],
        healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3 },
      }],
    }));
    const created = await ecs.send(new CreateServiceCommand({
      cluster: 'js', serviceName: 'web', taskDefinition: 'js-web', desiredCount: 3, launchType: 'FARGATE',
      networkConfiguration: network, serviceRegistries: [{ registryArn: registry.Arn }],
    }));
    assert.ok(created.service.createdAt instanceof Date);
    await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { cluster: 'js', services: ['web'] });

    const records = (n) => until(() => { const r = dig(d, 'web.js.local'); return r.length === n && r; },
      `${n} A records`);
    const discovered = async () => (await sd.send(new DiscoverInstancesCommand({
      NamespaceName: 'js.local', ServiceName: 'web',
    }))).Instances.map((i) => i.Attributes.AWS_INSTANCE_IPV4).sort();

    const three = await records(3);
    assert.deepEqual(await discovered(), three);
    assert.equal(dig(d, 'web.js.local', 'SRV').length, 3);

    const arns = (await ecs.send(new ListTasksCommand({ cluster: 'js', serviceName: 'web' }))).taskArns;
    const victim = arns[0].split('/').pop();
    const res = await fetch(`${d.api}/v1/tasks/${victim}/health`, {
      method: 'PUT', body: JSON.stringify({ status: 'UNHEALTHY' }),
    });
    assert.equal(res.status, 200);
    const stopped = (await ecs.send(new DescribeTasksCommand({ cluster: 'js', tasks: [victim] }))).tasks[0];
    assert.equal(stopped.stopCode, 'ServiceSchedulerInitiated');
    assert.equal(stopped.stoppedReason, 'Task failed container health checks');
    const after = await until(async () => {
      const r = dig(d, 'web.js.local');
      return r.length === 3 && r.some((ip) => !three.includes(ip)) && r;
    }, 'a replacement record');
    assert.deepEqual(await discovered(), after);

    await ecs.send(new UpdateServiceCommand({ cluster: 'js', service: 'web', desiredCount: 5 }));
    const five = await records(5);
    assert.deepEqual(await discovered(), five);
    await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { cluster: 'js', services: ['web'] });
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: 'js', services: ['web'] }))).services[0];
    assert.equal(svc.runningCount, 5);

    await ecs.send(new DeleteServiceCommand({ cluster: 'js', service: 'web', force: true }));
    await until(() => digStatus(d, 'web.js.local') === 'NXDOMAIN', 'NXDOMAIN');
    assert.deepEqual(await discovered(), []);
  } finally {
    d.stop();
  }
});
