import { test, expect } from '@playwright/test';
import { waitForHydration } from './helpers';

// What the browser downloads: the page and the wasm compressed (the server picks brotli
// or gzip from Chromium's Accept-Encoding); the page revalidated, the wasm, JS and CSS
// under content-hashed names and kept for good; the page still hydrates from the
// decompressed wasm.
test('the page and its wasm travel compressed, hashed assets are immutable, and it hydrates', async ({ page }) => {
  const hashed = /\/pkg\/kubernaut-context\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/;
  const assets = new Map<string, Record<string, string>>();
  page.on('response', (r) => {
    const u = r.url();
    if (u.includes('/pkg/') && !u.includes('/snippets/') && r.status() === 200) assets.set(u, r.headers());
  });
  const wasmResponse = page.waitForResponse((r) => r.url().endsWith('.wasm') && r.status() === 200);
  const pageResponse = await page.goto('/');
  expect(pageResponse).not.toBeNull();
  const html = pageResponse!;
  expect(html.headers()['content-encoding']).toMatch(/^(br|gzip)$/);
  expect(html.headers()['cache-control']).toBe('no-cache');

  const wasm = await wasmResponse;
  const h = wasm.headers();
  expect(wasm.url()).toMatch(hashed);
  expect(h['content-type']).toBe('application/wasm');
  expect(h['content-encoding']).toMatch(/^(br|gzip)$/);
  expect(h['cache-control']).toBe('public, max-age=31536000, immutable');
  const decoded = (await wasm.body()).length;
  const sent = (await wasm.request().sizes()).responseBodySize;
  console.log(`wasm: ${decoded} bytes, ${sent} bytes transferred (${h['content-encoding']})`);
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThan(decoded / 2);

  await waitForHydration(page);
  // The JS and the stylesheet too: every asset the page loaded has a hashed name and is
  // immutable.
  const kinds = [...assets.keys()].map((u) => u.split('.').pop());
  expect(new Set(kinds)).toEqual(new Set(['js', 'wasm', 'css']));
  for (const [url, headers] of assets) {
    expect(url).toMatch(hashed);
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
  }
});
