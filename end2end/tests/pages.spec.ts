import { test, expect } from '@playwright/test';
import path from 'node:path';
import { demoTraces, seedTraces, waitForHydration, watchConsole } from './helpers';

const ns = `shot-${Date.now().toString(36)}`;
// Screenshots are test artifacts (test-results/screenshots, not tracked); with
// UPDATE_SCREENSHOTS=1 they replace the committed ones in end2end/screenshots.
const shots = path.resolve(
  __dirname,
  process.env.UPDATE_SCREENSHOTS ? '../screenshots' : '../test-results/screenshots',
);

test.beforeAll(async ({ request }) => {
  await seedTraces(request, demoTraces(ns));
});

test.use({ viewport: { width: 1280, height: 800 } });

const pages: [string, string, string][] = [
  ['overview', '/', 'Overview'],
  ['history', `/history?namespace=${ns}`, 'Action history'],
  ['action', `/history/${ns}-mem-1`, `${ns}-mem-1`],
  ['patterns', '/patterns?window=7d', 'Patterns'],
  ['toolset', '/generate/toolset', 'Toolset generator'],
  ['manifests', '/generate/manifests', 'Manifest generator'],
  ['api', '/api-docs', 'API'],
];

for (const [name, url, heading] of pages) {
  test(`${name} page loads without console errors`, async ({ page }) => {
    const con = watchConsole(page);
    await page.goto(url);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(heading);
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link')).toHaveCount(6);
    await page.screenshot({ path: path.join(shots, `${name}.png`) });
    con.check();
  });
}

test('pattern detail page loads without console errors', async ({ page, request }) => {
  const con = watchConsole(page);
  const list = await request.get(`/api/v1/context/action-history?namespace=${ns}&name=checkout&limit=1`);
  const sig = (await list.json()).actions[0].signature as string;
  await page.goto(`/patterns/${sig}?window=7d`);
  await waitForHydration(page);
  await expect(page.getByTestId('recommendation')).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'pattern.png'), fullPage: false });
  con.check();
});

test('overview shows counts and links to details; narrow screens do not scroll sideways', async ({ page }) => {
  const con = watchConsole(page);
  await page.setViewportSize({ width: 400, height: 800 });
  for (const url of ['/', `/history?namespace=${ns}`, '/generate/toolset']) {
    await page.goto(url);
    await waitForHydration(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${url} scrolls sideways`).toBeLessThanOrEqual(0);
  }
  await page.goto('/');
  // The tiles link to the history of exactly what they count: whole hours.
  await expect(page.getByTestId('actions-7d')).toHaveAttribute('href', /^\/history\?range=custom&from=\d{4}-\d\d-\d\dT\d\d:00$/);
  await expect(page.getByTestId('total-traces')).not.toContainText(/^0/);
  con.check();
});

test('every page is complete without JavaScript', async ({ browser }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  for (const [name, url, heading] of pages) {
    await page.goto(url);
    await expect(page.getByRole('heading', { level: 1 }), name).toContainText(heading);
    await expect(page.getByText('Loading…'), name).toHaveCount(0);
  }
  await page.goto('/');
  await expect(page.getByTestId('actions-7d')).toBeVisible();
  await expect(page.getByTestId('store-kind')).toHaveText('local');
  await page.goto('/patterns?window=7d');
  await expect(page.getByTestId('pattern-row').first()).toBeVisible();
  await ctx.close();
});

test('hydration does not move anything: layout with and without JavaScript is the same', async ({ browser }) => {
  const boxes = async (js: boolean, url: string) => {
    const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(url);
    if (js) await waitForHydration(page);
    const r = await page.evaluate(() =>
      Array.from(document.querySelectorAll('main h1, main section, main form, main pre, main table'))
        .map((e) => { const b = e.getBoundingClientRect(); return [e.tagName, Math.round(b.x), Math.round(b.y), Math.round(b.width), Math.round(b.height)].join(' '); }));
    await ctx.close();
    return r;
  };
  for (const url of ['/', '/generate/toolset', '/generate/manifests', `/history?namespace=${ns}`]) {
    const withJs = await boxes(true, url);
    expect(withJs.length, url).toBeGreaterThan(2);
    expect(withJs, url).toEqual(await boxes(false, url));
  }
});

test('keyboard: the skip link and the navigation are reachable with Tab', async ({ page }) => {
  await page.goto('/');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' })).toBeFocused();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/history$/);
});
