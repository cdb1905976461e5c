import { test, expect } from '@playwright/test';
import { demoTraces, seedTraces, waitForHydration, watchConsole } from './helpers';

const ns = `hist-${Date.now().toString(36)}`;

test.beforeAll(async ({ request }) => {
  await seedTraces(request, demoTraces(ns));
});

test('filtering and paging change the rows and the URL; back returns to the previous rows', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto(`/history?namespace=${ns}`);
  await waitForHydration(page);
  const rows = page.getByTestId('history-row');
  await expect(rows).toHaveCount(25); // 46 traces in the namespace, 25 per page
  const firstPageFirst = await rows.first().textContent();

  // Next page: carries a cursor, shows the remaining 21 rows.
  await page.getByTestId('next-page').click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(21);
  expect(await rows.first().textContent()).not.toBe(firstPageFirst);
  await expect(page.getByTestId('next-page')).toHaveCount(0);

  // Back: the first page again.
  await page.goBack();
  await expect(page).not.toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(25);

  // Filter by kind + status through the form.
  await page.getByLabel('Kind', { exact: true }).fill('Deployment');
  await page.getByLabel('Status').selectOption('completed');
  await page.getByTestId('apply-filter').click();
  await expect(page).toHaveURL(/kind=Deployment/);
  await expect(page).toHaveURL(/status=completed/);
  // checkout: 4 increase_resources + 2 restart_pod completed; cart: 8 completed.
  await expect(rows).toHaveCount(14);
  for (const t of await rows.allTextContents()) expect(t).toContain('Deployment');
  await expect(page.getByLabel('Kind', { exact: true })).toHaveValue('Deployment');

  // A filter with no match says so.
  await page.goto(`/history?namespace=${ns}&action_type=drain_node`);
  await expect(page.getByTestId('no-match')).toBeVisible();
  con.check();
});

test('action detail shows every field, pretty JSON and linked follow-ups', async ({ page }) => {
  const con = watchConsole(page);
  await page.goto(`/history?namespace=${ns}&alert=HighMemoryUsage`);
  await expect(page.getByTestId('history-row')).toHaveCount(8);
  await page.goto(`/history/${ns}-mem-1`);
  await expect(page.getByTestId('action-id')).toHaveText(`${ns}-mem-1`);
  await expect(page.getByTestId('state-before')).toContainText('"memory_limit": "512Mi"');
  await expect(page.getByText('gpt-4o-mini')).toBeVisible();
  await waitForHydration(page);
  await page.getByTestId('follow-ups').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/history/${ns}-mem-0$`));
  await expect(page.getByTestId('action-parameters')).toContainText('"memory_limit": "1Gi"');
  await page.getByTestId('signature-link').click();
  await expect(page.getByTestId('recommendation')).toBeVisible();
  con.check();
});

test('without JavaScript the filter form and paging still work', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto('/history');
  await page.getByLabel('Namespace').fill(ns);
  await page.getByLabel('Name', { exact: true }).fill('cart');
  await page.getByTestId('apply-filter').click();
  await expect(page).toHaveURL(new RegExp(`namespace=${ns}`));
  await expect(page.getByTestId('history-row')).toHaveCount(8);

  await page.goto(`/history?namespace=${ns}`);
  await expect(page.getByTestId('history-row')).toHaveCount(25);
  await page.getByTestId('next-page').click();
  await expect(page.getByTestId('history-row')).toHaveCount(21);
  await ctx.close();
});

test('an unknown action or page answers 404 with a page that says what to do', async ({ request }) => {
  const missing = await request.get(`/history/${ns}-no-such-action`);
  expect(missing.status()).toBe(404);
  expect(await missing.text()).toContain('browse the history');
  const page = await request.get('/no-such-page');
  expect(page.status()).toBe(404);
  expect(await page.text()).toContain('Page not found');
});
