import { test, expect } from '@playwright/test';
import { watchConsole, waitForHydration } from './helpers';

test('overview hydrates, a click updates the page without reload, the server function answers', async ({ page }) => {
  const con = watchConsole(page);
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

  await page.goto('/');
  // Server-rendered health view is there before any JS runs.
  await expect(page.getByTestId('store-kind')).toHaveText('local');
  const firstChecked = await page.getByTestId('checked-at').textContent();
  await waitForHydration(page);

  // The button only works once hydrated: the count changes with no navigation.
  await expect(page.getByTestId('refresh-count')).toHaveText('Checked 1 time(s) from this page');
  const serverFn = page.waitForResponse((r) => r.url().includes('/api/') && r.request().method() === 'POST');
  await page.getByTestId('refresh').click();
  await expect(page.getByTestId('refresh-count')).toHaveText('Checked 2 time(s) from this page');
  const resp = await serverFn;
  expect(resp.status()).toBe(200);
  await expect(page.getByTestId('reachable')).toHaveText('yes');
  expect(navigations).toBe(1);
  expect(firstChecked).not.toBeNull();
  con.check();
});
