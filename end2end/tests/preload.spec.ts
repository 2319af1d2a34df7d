/**
 * Every page names, in its HTML, the WASM chunks its area needs (`<link rel="preload">`),
 * so a phone fetches them in parallel with the main module instead of one after the other
 * once it runs. Under load the server used to drop them, or add another response's (the
 * links were registered through whichever render the thread had current;
 * server/src/http/render_owner.rs): many pages at once, as a busy morning brings, must all
 * carry the same links.
 */
import { expect, test } from './support';

const PAGES = ['/forgot-password', '/signin', '/activate', '/signup'];
const AT_ONCE = 24;

function wasmPreloads(html: string): string[] {
  const links = html.match(/<link\b[^>]*rel="preload"[^>]*>/g) ?? [];
  return links
    .map((link) => /href="([^"]+\.wasm)"/.exec(link)?.[1])
    .filter((href): href is string => href !== undefined)
    .sort();
}

test('each page preloads its area’s WASM chunks, every time', async ({ request, mode }) => {
  test.skip(mode === 'nojs', 'about the HTML the server sends: one run is enough');
  for (const path of PAGES) {
    const bodies = await Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        const response = await request.get(path);
        expect(response.status(), `HTTP status of ${path}`).toBe(200);
        return response.text();
      }),
    );
    const first = wasmPreloads(bodies[0]);
    // The main module and at least one chunk of the page's area.
    expect(first.length, `${path}: WASM preloads ${JSON.stringify(first)}`).toBeGreaterThan(1);
    expect(new Set(first).size, `${path}: a WASM preload named twice`).toBe(first.length);
    bodies.forEach((body, i) => {
      expect(wasmPreloads(body), `${path}, response ${i + 1} of ${AT_ONCE}`).toEqual(first);
    });
    // Each one names a file the server has.
    for (const href of first) {
      const response = await request.head(href);
      expect(response.status(), `HEAD ${href}`).toBe(200);
    }
  }
});

test('the home page comes without the client, and the page after it brings it', async ({ page, request, mode }) => {
  test.skip(mode === 'nojs', 'about what the browser downloads with JavaScript on');
  const html = await (await request.get('/?lang=en')).text();
  // Only the stylesheet comes from the package folder: no module, no WASM, no loader.
  // (The inline data of the server's render stays: it loads nothing.)
  expect(html.match(/\/pkg\/[^"'\s)]+/g), 'what the home page names under /pkg').toEqual(['/pkg/sesame.css']);
  expect(wasmPreloads(html), 'no WASM on the home page').toEqual([]);

  const downloads: string[] = [];
  page.on('request', (r) => {
    if (/\.(wasm|js)(\?|$)/.test(r.url())) downloads.push(r.url());
  });
  await page.goto('/?lang=en');
  await page.waitForLoadState('networkidle');
  expect(downloads, 'what the home page downloaded').toEqual([]);

  // Its links are plain links: the next page is a full load, and that one hydrates.
  await page.getByRole('main').getByRole('link', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.waitForLoadState('networkidle');
  expect(downloads.some((url) => url.endsWith('.wasm')), `downloads: ${downloads.join(', ')}`).toBe(true);
});
