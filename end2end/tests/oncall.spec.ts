// What an on-call engineer needs of the web app: find (forgiving filters with
// suggestions, errors that name the field, pattern filters and sort, time ranges),
// read (links on every entity, one time format, page titles) and trust (previous/next,
// expired links, auto-refresh, dark mode), at a phone width and a laptop width.
import { test, expect, Page, Browser } from '@playwright/test';
import { demoTraces, seedTraces, waitForHydration, watchConsole } from './helpers';

const ns = `oncall-${Date.now().toString(36)}`;
const NS = ns.toUpperCase();

test.beforeAll(async ({ request }) => {
  await seedTraces(request, demoTraces(ns));
});

/** `YYYY-MM-DDTHH:MM` in UTC, `minutes` from now. */
function utcMinute(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString().slice(0, 16);
}

async function noSidewaysScroll(page: Page, what: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${what} scrolls sideways`).toBeLessThanOrEqual(0);
}

async function signatureOf(page: Page, name: string): Promise<string> {
  const r = await page.request.get(`/api/v1/context/action-history?namespace=${ns}&name=${name}&limit=1`);
  return (await r.json()).actions[0].signature as string;
}

for (const width of [400, 1366]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 900 } });

    test('history filters forgive case and partial words, and suggest values from the data', async ({ page }) => {
      const con = watchConsole(page);
      await page.goto('/history');
      await waitForHydration(page);
      await expect(page.getByLabel('Alert', { exact: true })).toHaveAttribute('list', 'dl-alert');
      await expect(page.locator('#dl-alert option[value="HighMemoryUsage"]')).toHaveCount(1);
      await expect(page.locator(`#dl-namespace option[value="${ns}"]`)).toHaveCount(1);
      await expect(page.locator('#dl-action_type option[value="restart_pod"]')).toHaveCount(1);
      await page.getByLabel('Alert', { exact: true }).fill('memory');
      await page.getByLabel('Namespace', { exact: true }).fill(NS);
      await page.getByTestId('apply-filter').click();
      await expect(page).toHaveURL(/alert=memory/);
      const rows = page.getByTestId('history-row');
      await expect(rows).toHaveCount(8);
      for (const t of await rows.allTextContents()) expect(t).toContain('HighMemoryUsage');
      await expect(page).toHaveTitle(new RegExp(`Action history: memory · ${NS}`));
      // Exact match stays available: the upper-case namespace then matches nothing.
      await page.getByLabel('Exact match').check();
      await page.getByTestId('apply-filter').click();
      await expect(page).toHaveURL(/match=exact/);
      await expect(page.getByTestId('no-match')).toBeVisible();
      await noSidewaysScroll(page, 'history');
      con.check();
    });

    test('an invalid filter value is an error naming the field, not "no match"', async ({ page }) => {
      await page.goto(`/history?namespace=${ns}&action_type=reboot_universe`);
      const err = page.getByTestId('error-action_type');
      await expect(err).toBeVisible();
      await expect(err).toContainText('Action type');
      await expect(err).toContainText('reboot_universe');
      await expect(page.getByLabel('Action type')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByTestId('no-match')).toHaveCount(0);
      await expect(page.getByTestId('filter-errors')).toBeVisible();
      await page.goto(`/history?namespace=${ns}&range=custom&from=yesterday`);
      await expect(page.getByTestId('error-from')).toContainText('From');
      await page.goto(`/history?namespace=${ns}&range=custom&from=${utcMinute(-10)}&to=${utcMinute(-60)}`);
      await expect(page.getByTestId('error-to')).toContainText('after From');
      await noSidewaysScroll(page, 'history with errors');
    });

    test('paging goes forward and back; an expired page link says so and starts over', async ({ page }) => {
      const con = watchConsole(page);
      await page.goto(`/history?namespace=${ns}`);
      const rows = page.getByTestId('history-row');
      await expect(rows).toHaveCount(25);
      await expect(page.getByTestId('prev-page')).toHaveCount(0);
      const first = await rows.first().textContent();
      await page.getByTestId('next-page').click();
      await expect(rows).toHaveCount(21);
      await expect(page.getByTestId('page-number')).toHaveText('Page 2');
      await page.getByTestId('prev-page').click();
      await expect(page).not.toHaveURL(/cursor=/);
      await expect(rows).toHaveCount(25);
      expect(await rows.first().textContent()).toBe(first);
      con.check();

      await page.goto(`/history?namespace=${ns}&cursor=not-a-real-cursor`);
      await expect(page.getByTestId('expired-link')).toBeVisible();
      await expect(page.locator('body')).not.toContainText('error running server function');
      await page.getByTestId('start-over').click();
      await expect(page).toHaveURL(new RegExp(`/history\\?namespace=${ns}$`));
      await expect(rows).toHaveCount(25);
    });

    test('every entity in a history row is a link: time and action to the action, resource to its history, alert to its pattern', async ({ page }) => {
      const con = watchConsole(page);
      await page.goto(`/history?namespace=${ns}&name=checkout`);
      const row = page.getByTestId('history-row').first();
      await expect(row.locator('time')).toHaveAttribute('title', /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      await expect(row.locator('time')).toHaveText(/ago|just now/);
      await row.getByTestId('row-resource').click();
      await expect(page).toHaveURL(/kind=Deployment&name=checkout&match=exact/);
      await expect(page.getByTestId('history-row')).toHaveCount(8);
      await page.getByTestId('history-row').first().getByTestId('row-alert').click();
      await expect(page).toHaveURL(/\/patterns\/[0-9a-f]{64}/);
      await expect(page).toHaveTitle(/HighMemoryUsage on .*checkout · Pattern/);
      await page.goBack();
      await page.getByTestId('history-row').first().getByTestId('row-action').click();
      await expect(page).toHaveURL(/\/history\/oncall-/);
      await expect(page).toHaveTitle(/on oncall-[^/]+\/Deployment\/checkout/);
      await page.getByTestId('resource-link').click();
      await expect(page.getByTestId('history-row')).toHaveCount(8);
      con.check();
    });

    test('patterns: filters forgive, sort by occurrences, last seen and success rate, pages keep them', async ({ page }) => {
      const con = watchConsole(page);
      await page.goto('/patterns?window=7d');
      await page.getByLabel('Namespace', { exact: true }).fill(NS);
      await page.getByLabel('Alert', { exact: true }).fill('memory');
      await page.getByTestId('apply-pattern-filter').click();
      await expect(page).toHaveURL(/alert=memory/);
      const rows = page.getByTestId('pattern-row');
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText('checkout');
      await expect(rows.first().getByTestId('success')).toHaveText('75%');
      await expect(page).toHaveTitle(/Patterns: memory/);

      await page.goto(`/patterns?window=7d&namespace=${ns}&sort=last_seen`);
      await expect(rows.first()).toContainText('cart'); // newest: 20 min ago
      await expect(page.getByLabel('Sort by')).toHaveValue('last_seen');
      await page.goto(`/patterns?window=7d&namespace=${ns}&sort=success_rate`);
      await expect(rows.first()).toContainText('cart'); // 8 of 8 completed
      await expect(rows.first().getByTestId('success')).toHaveText('100%');
      await page.goto(`/patterns?window=7d&namespace=${ns}&kind=pod`);
      await expect(rows).toHaveCount(6);
      // The resource links to its history.
      await rows.first().getByTestId('pattern-resource').click();
      await expect(page).toHaveURL(/kind=Pod&name=web-\d&match=exact/);
      await page.goto(`/patterns?window=3y&namespace=${ns}`);
      await expect(page.getByTestId('pattern-error')).toHaveText(/^Window: "3y" is not a window/);
      await page.goto(`/patterns?window=7d&namespace=${ns}&sort=loudest`);
      await expect(page.getByTestId('pattern-error')).toHaveText(/^Sort: "loudest" is not a sort order/);
      await page.goto(`/patterns?window=7d&namespace=${ns}&page=9`);
      await expect(page.getByTestId('no-pattern-page')).toBeVisible();
      await noSidewaysScroll(page, 'patterns');
      con.check();
    });

    test('the pattern page names its pattern, links its resource and formats times and spans', async ({ page }) => {
      const con = watchConsole(page);
      const sig = await signatureOf(page, 'checkout');
      await page.goto(`/patterns/${sig}?window=7d`);
      await expect(page).toHaveTitle(new RegExp(`HighMemoryUsage on ${ns}/Deployment/checkout · Pattern`));
      await expect(page.getByTestId('action-stats').locator('time').first()).toHaveAttribute('title', /UTC$/);
      await page.getByTestId('pattern-resource-history').click();
      await expect(page.getByTestId('history-row')).toHaveCount(8);
      await page.goto(`/patterns/${sig}?window=7d`);
      await noSidewaysScroll(page, 'pattern');
      if (width >= 1366) {
        // The actions table fits ("Last attempt" not cut off) and history workflow ids do not wrap.
        const wrap = page.getByTestId('action-stats').locator('xpath=..');
        expect(await wrap.evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
        await page.goto(`/history?namespace=${ns}&kind=Pod`);
        const heights = await page.locator('td.wf a').evaluateAll((as) => as.map((a) => a.getBoundingClientRect().height));
        expect(heights.length).toBeGreaterThan(0);
        for (const h of heights) expect(h).toBeLessThan(30);
        const hist = page.getByTestId('history-table').locator('xpath=..');
        expect(await hist.evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
      }
      con.check();
    });

    test('export: the filtered history downloads as CSV and NDJSON, the same as the API', async ({ browser }) => {
      for (const js of [true, false]) {
        const ctx = await browser.newContext({ javaScriptEnabled: js, acceptDownloads: true, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(`/history?namespace=${NS}&alert=memory`);
        const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
        expect(csv.suggestedFilename()).toBe('action-history.csv');
        const text = await (await import('node:fs')).promises.readFile(await csv.path(), 'utf8');
        const lines = text.trim().split('\n');
        expect(lines[0]).toMatch(/^action_id,action_timestamp,namespace,kind,name,alert_name,/);
        expect(lines).toHaveLength(9); // header + 8 HighMemoryUsage actions on checkout
        for (const l of lines.slice(1)) expect(l).toContain(`,${ns},Deployment,checkout,HighMemoryUsage,`);
        const href = await page.getByTestId('export-csv').getAttribute('href');
        expect(await (await page.request.get(href!)).text()).toBe(text);
        const [nd] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-ndjson').click()]);
        const docs = (await (await import('node:fs')).promises.readFile(await nd.path(), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
        expect(docs.map((d) => d.action_id)).toEqual(Array.from({ length: 8 }, (_, i) => `${ns}-mem-${i}`));
        await ctx.close();
      }
    });

    test('the chart is readable: a real time axis ending now, legible text, exact tooltips, gaps as gaps', async ({ browser }) => {
      for (const js of [true, false]) {
        const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        const sig = await signatureOf(page, 'checkout');
        await page.goto(`/patterns/${sig}?window=7d`);
        const chart = page.getByTestId('timeline-chart');
        await expect(chart).toBeVisible();
        await expect(chart.getByTestId('axis-end')).toHaveText('now');
        const times = chart.locator('text.time');
        expect(await times.count()).toBeGreaterThanOrEqual(3); // ticks + "now"
        for (const h of await chart.locator('text.axis').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height))) {
          expect(h, 'axis text height in px').toBeGreaterThanOrEqual(9);
        }
        // Tooltips (SVG <title>) with exact figures; together they hold every occurrence.
        const bars = chart.locator('g.bar');
        const counts = await bars.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-occurrences'))));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(8);
        const titles = await chart.locator('g.bar > title').allTextContents();
        expect(titles.filter((t) => /1 occurrence\(s\): \d completed, \d failed/.test(t)).length).toBeGreaterThan(0);
        expect(titles.every((t) => t.includes('UTC'))).toBe(true);
        // Effectiveness: a dot per assessed bucket, no line drawn across empty buckets.
        const assessed = titles.filter((t) => t.includes('mean effectiveness')).length;
        await expect(chart.locator('circle.eff-dot')).toHaveCount(assessed);
        const across = await chart.evaluate((svg) => {
          const gaps = Array.from(svg.querySelectorAll('g.bar'))
            .filter((g) => !g.querySelector('title')!.textContent!.includes('mean effectiveness'))
            .map((g) => { const r = g.querySelector('rect.hit')!; return Number(r.getAttribute('x')) + Number(r.getAttribute('width')) / 2; });
          let n = 0;
          svg.querySelectorAll('polyline.eff-line').forEach((l) => {
            const xs = l.getAttribute('points')!.split(' ').map((p) => Number(p.split(',')[0]));
            for (let i = 1; i < xs.length; i++) if (gaps.some((g) => g > xs[i - 1] && g < xs[i])) n++;
          });
          return n;
        });
        expect(across, 'line segments drawn across buckets without effectiveness').toBe(0);
        await expect(page.locator('figcaption')).toContainText('time axis in UTC');
        await noSidewaysScroll(page, 'pattern chart');
        await ctx.close();
      }
    });

    test('oscillation findings say what they count and link it', async ({ page }) => {
      const sig = await signatureOf(page, 'cart');
      await page.goto(`/patterns/${sig}?window=24h`);
      const finding = page.getByTestId('finding').first();
      await expect(finding).toBeVisible();
      const counts = finding.getByTestId('finding-counts');
      await expect(counts).toHaveText(/^Counts \d+ actions? \(scale_deployment\) from \d{4}-\d\d-\d\d \d\d:\d\d UTC to .+ UTC \(\d+ (min|h)/);
      const n = Number((await counts.textContent())!.match(/Counts (\d+)/)![1]);
      await expect(finding.locator('a[href^="/history/"]')).toHaveCount(Math.min(n, 8));
      await noSidewaysScroll(page, 'findings');
    });

    test('custom time range: UTC in the URL, works without JavaScript', async ({ browser }) => {
      const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width, height: 900 } });
      const page = await ctx.newPage();
      // HighMemoryUsage on checkout: 45 min and 12 h 45 min ago, then every 12 h.
      await page.goto(`/history?namespace=${ns}&alert=memory&range=custom&from=${utcMinute(-13 * 60)}&to=${utcMinute(-10)}`);
      await expect(page.getByTestId('history-row')).toHaveCount(2);
      await expect(page.getByTestId('range')).toHaveValue('custom');
      await expect(page.getByText('(UTC)').first()).toBeVisible();
      // A preset through the form.
      await page.goto(`/history?namespace=${ns}&alert=memory`);
      await page.getByTestId('range').selectOption('24h');
      await page.getByTestId('apply-filter').click();
      await expect(page).toHaveURL(/range=24h/);
      await expect(page.getByTestId('history-row')).toHaveCount(2);
      await ctx.close();
    });

    test('patterns: a custom from/to range counts only the actions inside it', async ({ browser }) => {
      for (const js of [false, true]) {
        const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(`/patterns?namespace=${ns}`);
        await page.getByTestId('window').selectOption('custom');
        // In this UTC browser local time is UTC, so the fields take the same values.
        await page.getByLabel(/^From/).fill(utcMinute(-200));
        await page.getByLabel(/^To/).fill(utcMinute(-70));
        await page.getByTestId('apply-pattern-filter').click();
        await expect(page).toHaveURL(/window=custom&from=.+&to=/);
        // cart: 160, 140, 120, 100 and 80 min ago; nothing else of the namespace.
        const rows = page.getByTestId('pattern-row');
        await expect(rows).toHaveCount(1);
        await expect(rows.first()).toContainText('cart');
        await expect(rows.first().getByTestId('recent')).toHaveText('5');
        await expect(page).toHaveTitle(/^Patterns: oncall-[^,]+, from \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
        await page.goto(`/patterns?namespace=${ns}&window=custom&from=${utcMinute(-10)}&to=${utcMinute(-60)}`);
        await expect(page.getByTestId('pattern-error')).toHaveText('To: must be after From');
        await ctx.close();
      }
    });

    test('pattern page: a custom from/to range analyses only the actions inside it', async ({ browser }) => {
      for (const js of [false, true]) {
        const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        const sig = await signatureOf(page, 'cart');
        await page.goto(`/patterns/${sig}?window=24h`);
        await expect(page.getByTestId('occurrences')).toHaveText('8');
        await page.getByTestId('detail-window').selectOption('custom');
        await page.getByLabel(/^From/).fill(utcMinute(-200));
        await page.getByLabel(/^To/).fill(utcMinute(-70));
        await page.getByTestId('show-range').click();
        await expect(page).toHaveURL(/window=custom&from=.+&to=/);
        await expect(page.getByTestId('occurrences')).toHaveText('5'); // 160 … 80 min ago
        await expect(page.getByTestId('timeline-chart').getByTestId('axis-end')).toHaveText(/UTC$/);
        await expect(page.getByTestId('detail-window')).toHaveValue('custom');
        await page.goto(`/patterns/${sig}?window=5y`);
        await expect(page.locator('p.error')).toContainText('Window: "5y" is not a window');
        await ctx.close();
      }
    });

    test('custom time range: local time on the page, UTC in the URL (JavaScript, UTC+05:30)', async ({ browser }) => {
      const ctx = await browser.newContext({ timezoneId: 'Asia/Kolkata', viewport: { width, height: 900 } });
      const page = await ctx.newPage();
      const from = utcMinute(-13 * 60);
      await page.goto(`/history?namespace=${ns}&alert=memory&range=custom&from=${from}`);
      const input = page.getByLabel(/^From/);
      const local = new Date(new Date(from + ':00Z').getTime() + 330 * 60_000).toISOString().slice(0, 16);
      await expect(input).toHaveValue(local);
      await expect(page.locator('[data-tz-for="h-from"]')).toHaveText('(local, UTC+05:30)');
      await page.getByTestId('apply-filter').click();
      await expect(page).toHaveURL(new RegExp(`from=${from.replace(':', '%3A')}`));
      await expect(page.getByTestId('history-row')).toHaveCount(2);
      // Typing a time switches the range to custom.
      await page.goto(`/history?namespace=${ns}&alert=memory&range=7d`);
      await page.getByLabel(/^To/).fill(local);
      await expect(page.getByTestId('range')).toHaveValue('custom');
      await ctx.close();
    });
  });
}

test('auto-refresh: off by default, reloads at the chosen interval, paused while hidden', async ({ page }) => {
  await page.goto(`/history?namespace=${ns}`);
  await expect(page.getByTestId('refresh')).not.toHaveAttribute('data-refresh', /./);
  await page.getByTestId('refresh-30').click();
  await expect(page).toHaveURL(/refresh=30/);
  await expect(page.getByTestId('refresh')).toHaveAttribute('data-refresh', '30');
  expect(await page.evaluate(() => (window as any).__kubernautRefresh.seconds)).toBe(30);
  expect(await page.evaluate(() => (window as any).__kubernautRefresh.paused())).toBe(false);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  expect(await page.evaluate(() => (window as any).__kubernautRefresh.paused())).toBe(true);
  // After the interval the page reloads (a fresh page has no marker).
  await page.clock.install();
  await page.goto(`/patterns?window=7d&namespace=${ns}&refresh=30`);
  await page.evaluate(() => { (window as any).__marker = 1; });
  await page.clock.fastForward(31_000);
  await page.waitForFunction(() => (window as any).__marker === undefined);
  await expect(page.getByTestId('refresh-off')).toHaveAttribute('href', new RegExp(`/patterns\\?window=7d&namespace=${ns}$`));
});

test('dark mode follows the system setting', async ({ browser }) => {
  const bg = async (scheme: 'light' | 'dark') => {
    const ctx = await browser.newContext({ colorScheme: scheme });
    const page = await ctx.newPage();
    await page.goto('/history');
    const c = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await ctx.close();
    return c;
  };
  expect(await bg('light')).toBe('rgb(246, 248, 250)');
  expect(await bg('dark')).toBe('rgb(13, 17, 23)');
});
