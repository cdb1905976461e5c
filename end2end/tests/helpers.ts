import { APIRequestContext, Page, expect } from '@playwright/test';

/** Collects console errors and page errors; call `check()` at the end of a test. */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return {
    errors,
    check: () => expect(errors, 'console errors').toEqual([]),
  };
}

/** Waits until the Leptos wasm bundle has hydrated the page. */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => (window as any).__kubernautHydrated === true, null, { timeout: 20_000 });
}

/** Bearer token of the e2e server (scripts/test-e2e.sh exports KUBERNAUT_CONTEXT_TOKENS). */
export function e2eToken(): string {
  const t = (process.env.KUBERNAUT_CONTEXT_TOKENS ?? '').split(',')[0];
  if (!t) throw new Error('KUBERNAUT_CONTEXT_TOKENS is not set: run through scripts/test-e2e.sh');
  return t;
}

type Trace = Record<string, unknown>;

/** Posts traces in batches of 100; fails the test on any non-2xx answer. */
export async function seedTraces(request: APIRequestContext, traces: Trace[]) {
  for (let i = 0; i < traces.length; i += 100) {
    const resp = await request.post('/api/v1/context/action-history', {
      data: traces.slice(i, i + 100),
      headers: { Authorization: `Bearer ${e2eToken()}` },
    });
    expect(resp.status(), await resp.text()).toBeLessThan(300);
  }
}

/**
 * A small history in its own namespace `ns` (so specs sharing one server do not see each
 * other's rows): 30 routine actions spread over 5 days on `web-N` pods, a recurring
 * HighMemoryUsage on Deployment `checkout` where increase_resources works and
 * restart_pod does not, and a replica ping-pong on Deployment `cart` within the last hours.
 */
export function demoTraces(ns: string, now = Date.now()): Trace[] {
  const out: Trace[] = [];
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const statuses = ['completed', 'completed', 'completed', 'failed', 'rolled-back'];
  for (let i = 0; i < 30; i++) {
    out.push({
      action_id: `${ns}-routine-${String(i).padStart(2, '0')}`,
      action_timestamp: at(60 * 4 * i + 30),
      workflow_id: i % 2 === 0 ? `${ns}-wf-even` : `${ns}-wf-odd`,
      resource: { namespace: ns, kind: 'Pod', name: `web-${i % 6}` },
      alert: { name: 'PodCrashLooping', severity: i % 3 === 0 ? 'critical' : 'warning' },
      action_type: 'restart_pod',
      action_parameters: { grace_period_seconds: 30 },
      execution_status: statuses[i % statuses.length],
    });
  }
  for (let i = 0; i < 8; i++) {
    const good = i % 2 === 0;
    out.push({
      action_id: `${ns}-mem-${i}`,
      action_timestamp: at(60 * 12 * i + 45),
      resource: { namespace: ns, kind: 'Deployment', name: 'checkout' },
      alert: { name: 'HighMemoryUsage', severity: 'warning', labels: { team: 'payments' } },
      model: { used: 'gpt-4o-mini', confidence: 0.8, reasoning: 'memory grows steadily' },
      action_type: good ? 'increase_resources' : 'restart_pod',
      action_parameters: good ? { memory_limit: '1Gi', previous: '512Mi' } : {},
      resource_state_before: { memory_limit: '512Mi', replicas: 3 },
      resource_state_after: good ? { memory_limit: '1Gi', replicas: 3 } : { memory_limit: '512Mi', replicas: 3 },
      execution_status: good ? 'completed' : i % 4 === 1 ? 'failed' : 'completed',
      effectiveness: {
        score: good ? 0.9 : 0.2,
        method: 'automated',
        criteria: { alert_resolved: good, target_metric_improved: good, no_new_alerts_generated: true, resource_stabilized: good, side_effects_minimal: true },
      },
      follow_up_actions: i === 1 ? [{ action_id: `${ns}-mem-0`, relation: 'correction', timestamp: at(45) }] : [],
    });
  }
  for (let i = 0; i < 8; i++) {
    out.push({
      action_id: `${ns}-cart-${i}`,
      action_timestamp: at(20 * (8 - i)),
      resource: { namespace: ns, kind: 'Deployment', name: 'cart' },
      alert: { name: 'HighLatency', severity: 'critical' },
      action_type: 'scale_deployment',
      action_parameters: { replicas: i % 2 === 0 ? 6 : 2 },
      resource_state_before: { replicas: i % 2 === 0 ? 2 : 6 },
      resource_state_after: { replicas: i % 2 === 0 ? 6 : 2 },
      execution_status: 'completed',
      effectiveness: { score: 0.3, method: 'automated' },
    });
  }
  return out;
}
