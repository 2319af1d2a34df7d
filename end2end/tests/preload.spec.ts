/**
 * Pages are rendered on the server; only their islands (the password checklist, the bot
 * check's solver, the letter's print button) run in the browser. A page loads the client
 * (Leptos' loader, the JS module, the WASM, with their preload links) only when it holds an
 * island, and then names it exactly once. Many pages at once, as a busy morning brings,
 * must all carry the same links.
 */
import { expect, test } from './support';

/** First pages of the flows: links and plain forms, no island. */
const PAGES_WITHOUT_ISLANDS = ['/', '/signin', '/forgot-password', '/forgot-username', '/activate', '/signup'];
/** The bot check's solver is an island. */
const PAGE_WITH_ISLAND = '/cant-sign-in';
const AT_ONCE = 24;

function clientLinks(html: string): string[] {
  return (html.match(/\/pkg\/[^"'\s)]+/g) ?? []).filter((href) => !href.endsWith('.css')).sort();
}

test('only a page with an island names the client, once, every time', async ({ request, mode }) => {
  test.skip(mode === 'nojs', 'about the HTML the server sends: one run is enough');
  for (const path of PAGES_WITHOUT_ISLANDS) {
    const html = await (await request.get(path)).text();
    expect(clientLinks(html), `${path} names no client file`).toEqual([]);
    expect(html, `${path} has no module script`).not.toContain('<script type="module"');
  }

  const bodies = await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      const response = await request.get(PAGE_WITH_ISLAND);
      expect(response.status(), `HTTP status of ${PAGE_WITH_ISLAND}`).toBe(200);
      return response.text();
    }),
  );
  const first = clientLinks(bodies[0]);
  // The module (its preload and the loader's import), and the WASM's preload.
  expect(first.filter((href) => href.endsWith('.wasm')), `WASM in ${JSON.stringify(first)}`).toHaveLength(1);
  expect(first.some((href) => href.endsWith('.js')), `JS in ${JSON.stringify(first)}`).toBe(true);
  expect(bodies[0].match(/<script type="module"/g), 'one loader').toHaveLength(1);
  bodies.forEach((body, i) => {
    expect(clientLinks(body), `${PAGE_WITH_ISLAND}, response ${i + 1} of ${AT_ONCE}`).toEqual(first);
  });
  for (const href of new Set(first)) {
    const response = await request.head(href);
    expect(response.status(), `HEAD ${href}`).toBe(200);
  }
});

test('a page without islands downloads no client; one with an island runs it', async ({ page, mode }) => {
  test.skip(mode === 'nojs', 'about what the browser downloads with JavaScript on');
  const downloads: string[] = [];
  page.on('request', (r) => {
    if (/\.(wasm|js)(\?|$)/.test(r.url())) downloads.push(r.url());
  });
  await page.goto('/?lang=en');
  await page.waitForLoadState('networkidle');
  expect(downloads, 'what the home page downloaded').toEqual([]);

  // Its links are plain links: the next page is a full load.
  await page.getByRole('main').getByRole('link', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.waitForLoadState('networkidle');
  expect(downloads, 'what the sign-in page downloaded').toEqual([]);

  await page.goto(`${PAGE_WITH_ISLAND}?lang=en`);
  // The island hydrated: its solver ran and filled in the solution.
  await expect(page.locator('[data-bot-check="solved"]')).toBeAttached();
  await expect(page.locator('input[name="form[bot_solution]"]')).not.toHaveValue('');
  expect(downloads.some((url) => url.endsWith('.wasm')), `downloads: ${downloads.join(', ')}`).toBe(true);
});
