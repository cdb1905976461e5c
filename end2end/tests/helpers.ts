import { Page, expect } from '@playwright/test';

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
