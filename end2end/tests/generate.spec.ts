import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { waitForHydration, watchConsole } from './helpers';

const cli = path.resolve(__dirname, '../../target/debug/kubernaut-context');

test('the toolset preview updates as you type, without any request, and validates next to the field', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto('/generate/toolset');
  await waitForHydration(page);
  const preview = page.getByTestId('preview-toolset');
  await expect(preview).toContainText('http://127.0.0.1:8091');

  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.getByLabel('Context API URL').fill('http://ctx.example.internal:9000');
  await expect(preview).toContainText('http://ctx.example.internal:9000');
  await expect(preview).not.toContainText('http://127.0.0.1:8091');
  await page.getByLabel('Prometheus tools').uncheck();
  await page.getByLabel('Context API URL').fill('not a url');
  await expect(page.getByTestId('error-context_url')).not.toBeEmpty();
  await expect(page.getByLabel('Context API URL')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Context API URL').fill('http://ctx.example.internal:9000');
  await expect(page.getByTestId('error-context_url')).toBeEmpty();
  expect(requests, 'the preview made requests').toEqual([]);
  con.check();
});

test('the downloaded toolset equals the CLI output for the same options', async ({ page }) => {
  test.skip(!existsSync(cli), 'CLI not built');
  await page.goto('/generate/toolset');
  await waitForHydration(page);
  await page.getByLabel('Context API URL').fill('http://ctx.example.internal:9000');
  await page.getByLabel('Prometheus URL').fill('http://prom.example.internal:9090');
  await page.getByLabel('Kubernetes tools').uncheck();
  await page.getByLabel('Reads need a bearer token').check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('download-toolset').click(),
  ]);
  expect(download.suggestedFilename()).toBe('kubernaut-toolset.yaml');
  const file = await download.path();
  const got = readFileSync(file!, 'utf8');
  const want = execFileSync(cli, [
    'toolset', '--context-url', 'http://ctx.example.internal:9000',
    '--prometheus-url', 'http://prom.example.internal:9090', '--no-kubernetes', '--require-token',
  ], { encoding: 'utf8' });
  expect(got).toBe(want);
});

test('lambda function URLs pasted from the stack outputs fill the fields and the preview', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto('/generate/toolset');
  await waitForHydration(page);
  await page.getByLabel('Paste the stack outputs').fill(
    'HealthFunctionUrl https://h.lambda-url.eu-west-1.on.aws/\n' +
    'DiscoverFunctionUrl https://d.lambda-url.eu-west-1.on.aws/\n' +
    'ActionHistoryReadFunctionUrl https://a.lambda-url.eu-west-1.on.aws/\n' +
    'PatternsFunctionUrl https://p.lambda-url.eu-west-1.on.aws/');
  await expect(page.getByLabel('Deployment')).toHaveValue('lambda');
  await expect(page.getByLabel('patterns function URL')).toHaveValue('https://p.lambda-url.eu-west-1.on.aws/');
  await expect(page.getByTestId('preview-toolset')).toContainText('https://p.lambda-url.eu-west-1.on.aws');
  con.check();
});

test('manifests and podman previews; without JavaScript the form renders on the server', async ({ page, browser }) => {
  const con = watchConsole(page);
  await page.goto('/generate/manifests');
  await waitForHydration(page);
  await page.getByLabel('Namespace', { exact: true }).fill('holmes-test');
  await expect(page.getByTestId('preview-manifests')).toContainText('namespace: holmes-test');
  await expect(page.getByTestId('preview-podman')).toContainText('podman run');
  con.check();

  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const p = await ctx.newPage();
  await p.goto('/generate/manifests');
  await p.getByLabel('Namespace', { exact: true }).fill('nojs-ns');
  await p.getByLabel('Create the Namespace').check();
  await p.getByRole('button', { name: 'Generate' }).click();
  await expect(p).toHaveURL(/namespace=nojs-ns/);
  await expect(p.getByTestId('preview-manifests')).toContainText('namespace: nojs-ns');
  await expect(p.getByTestId('preview-manifests')).toContainText('kind: Namespace');
  await p.getByLabel('Namespace', { exact: true }).fill('Bad_NS');
  await p.getByRole('button', { name: 'Generate' }).click();
  await expect(p.getByTestId('error-namespace')).not.toBeEmpty();
  await ctx.close();
});

test('loading function URLs from this combined server explains there are none', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto('/generate/toolset');
  await waitForHydration(page);
  const discover = page.waitForResponse((r) => r.url().endsWith('/api/v1/context/discover'));
  await page.getByTestId('load-discover').click();
  expect((await discover).status()).toBe(200);
  await expect(page.locator('#discover-status')).toContainText('no function URLs');
  await expect(page.getByLabel('Deployment')).toHaveValue('combined');
  con.check();
});
