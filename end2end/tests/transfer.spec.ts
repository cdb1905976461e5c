import { test, expect } from '@playwright/test';
import { waitForHydration } from './helpers';

// What the browser downloads: the page and the wasm compressed (the server picks brotli
// or gzip from Chromium's Accept-Encoding), revalidated rather than cached blind, and the
// page still hydrates from the decompressed wasm.
test('the page and its wasm travel compressed, revalidate, and hydrate', async ({ page }) => {
  const wasmResponse = page.waitForResponse((r) => r.url().endsWith('.wasm') && r.status() === 200);
  const pageResponse = await page.goto('/');
  expect(pageResponse).not.toBeNull();
  const html = pageResponse!;
  expect(html.headers()['content-encoding']).toMatch(/^(br|gzip)$/);
  expect(html.headers()['cache-control']).toBe('no-cache');

  const wasm = await wasmResponse;
  const h = wasm.headers();
  expect(h['content-type']).toBe('application/wasm');
  expect(h['content-encoding']).toMatch(/^(br|gzip)$/);
  expect(h['cache-control']).toBe('no-cache');
  expect(h['etag']).toMatch(/^W\/"/);
  const decoded = (await wasm.body()).length;
  const sent = (await wasm.request().sizes()).responseBodySize;
  console.log(`wasm: ${decoded} bytes, ${sent} bytes transferred (${h['content-encoding']})`);
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThan(decoded / 2);

  await waitForHydration(page);
});
