import { test, expect } from '@playwright/test';
import { demoTraces, seedTraces } from './helpers';

// The web app and the API answer from one use-case layer: for every signature of a
// history, the pattern page says what GET /api/v1/context/patterns/{signature} says, for
// the windows the app links to (24h from the overview, 30d from the patterns list).
const ns = `cons-${Date.now().toString(36)}`;

test.beforeAll(async ({ request }) => {
  await seedTraces(request, demoTraces(ns));
});

test('the pattern page and the API agree on every signature', async ({ browser, request }) => {
  const list = await (await request.get(`/api/v1/context/patterns?window=30d&namespace=${ns}&limit=100`)).json();
  const sigs: string[] = list.signatures.map((s: any) => s.signature);
  expect(sigs.length).toBeGreaterThan(3);
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  for (const window of ['30d', '24h']) {
    for (const sig of sigs) {
      const api = await (await request.get(`/api/v1/context/patterns/${sig}?window=${window}`)).json();
      await page.goto(`/patterns/${sig}?window=${window}`);
      await expect(page.getByTestId('occurrences'), `${sig} ${window}`).toHaveText(String(api.occurrences));
      const rec = api.recommendation;
      if (rec.action_type) {
        await expect(page.getByTestId('recommended-action'), `${sig} ${window}`).toHaveText(rec.action_type);
      } else {
        await expect(page.getByTestId('recommendation-status'), `${sig} ${window}`).toHaveText(rec.status.replace(/_/g, ' '));
      }
      await expect(page.getByTestId('recommendation-reason')).toHaveText(rec.reason);
    }
  }
  // The patterns page counts like the API (the rows of this history on the first page).
  await page.goto('/patterns?window=30d');
  const rows = page.getByTestId('pattern-row').filter({ hasText: `${ns}/` });
  const byId = new Map<string, number>(list.signatures.map((s: any) => [s.signature, s.window_occurrences]));
  for (let i = 0; i < (await rows.count()); i++) {
    const href = (await rows.nth(i).getByRole('link').first().getAttribute('href')) ?? '';
    const sig = href.split('/').pop()!.split('?')[0];
    await expect(rows.nth(i).getByTestId('recent')).toHaveText(String(byId.get(sig)));
  }
  await ctx.close();
});
