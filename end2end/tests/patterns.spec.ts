import { test, expect } from '@playwright/test';
import { demoTraces, seedTraces, waitForHydration, watchConsole } from './helpers';

const ns = `pat-${Date.now().toString(36)}`;

test.beforeAll(async ({ request }) => {
  await seedTraces(request, demoTraces(ns));
});

test('a pattern detail shows the recommendation, the per-action table and the chart', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto(`/patterns?window=7d&namespace=${ns}`);
  await waitForHydration(page);
  const row = page.getByTestId('pattern-row').filter({ hasText: `${ns}/` }).filter({ hasText: 'checkout' });
  await expect(row).toHaveCount(1);
  await row.getByTestId('pattern-link').click();
  await expect(page).toHaveURL(/\/patterns\/[0-9a-f]{64}/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('HighMemoryUsage');
  await expect(page.getByTestId('recommended-action')).toHaveText('increase_resources');
  await expect(page.getByTestId('recommendation-reason')).not.toBeEmpty();
  const stats = page.getByTestId('action-stats');
  await expect(stats).toContainText('increase_resources');
  await expect(stats).toContainText('restart_pod');
  await expect(page.getByTestId('timeline-chart').locator('rect').first()).toBeVisible();
  con.check();
});

test('the chart and recommendation render on the server (JavaScript disabled)', async ({ browser, request }) => {
  const list = await request.get(`/api/v1/context/action-history?namespace=${ns}&name=cart&limit=1`);
  const sig = (await list.json()).actions[0].signature as string;
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`/patterns/${sig}?window=24h`);
  await expect(page.getByTestId('timeline-chart')).toBeVisible();
  await expect(page.getByTestId('recommendation')).toBeVisible();
  await expect(page.getByTestId('oscillation')).toBeVisible();
  await ctx.close();
});

test('signatures are ranked by occurrences in the chosen window', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto(`/patterns?window=24h&namespace=${ns}`);
  const mine = page.getByTestId('pattern-row').filter({ hasText: `${ns}/` });
  // Last 24 h: cart 8 times, checkout twice, each web pod once.
  await expect(mine.first()).toContainText('cart');
  await expect(mine.first().getByTestId('recent')).toHaveText('8');
  await expect(mine.filter({ hasText: 'checkout' }).getByTestId('recent')).toHaveText('2');
  await expect(mine.filter({ hasText: 'web-0' }).getByTestId('recent')).toHaveText('1');
  // Last 7 days: checkout has all 8 of its occurrences.
  await page.getByLabel('Window', { exact: true }).selectOption('7d');
  await page.getByTestId('apply-pattern-filter').click();
  await expect(page).toHaveURL(/window=7d/);
  await expect(mine.filter({ hasText: 'checkout' }).getByTestId('recent')).toHaveText('8');
  await expect(mine.filter({ hasText: 'web-0' }).getByTestId('recent')).toHaveText('5');
  con.check();
});
