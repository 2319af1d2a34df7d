/**
 * Shared helpers for Sésame's end-to-end specs: the `test` object (with the run mode),
 * the language, the words the portal shows, accessibility scans and screenshots.
 */
import { test as base, expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export { expect };

export type Lang = 'fr' | 'en';
export type Mode = 'js' | 'nojs';

export const LANGS: readonly Lang[] = ['fr', 'en'];

/** Every demo person has this password (`sesame serve --demo`). */
export const DEMO_PASSWORD = 'Marmotte-Velo-42!';

export const DEMO_PEOPLE = {
  marie: { login: 'marie.tremblay', name: 'Marie Tremblay' },
  alex: { login: 'alex.martin', name: 'Alex Martin' },
  jean: { login: 'jean.gagnon', name: 'Jean Gagnon' },
} as const;

/** The words the tests look for, per language (app/locales/*.json, demo institution). */
export const WORDS = {
  fr: {
    institution: 'Université Démo',
    homeTitle: 'Bienvenue sur le portail de comptes de Université Démo',
    tagline: 'Votre compte, en libre-service',
    languageSwitch: 'English',
    skipLink: 'Aller au contenu principal',
    homeSignInLink: 'Ouvrir une session',
    signinTitle: 'Ouverture de session',
    loginLabel: "Code d'utilisateur",
    passwordLabel: 'Mot de passe',
    submit: 'Ouvrir une session',
    errorSummaryTitle: 'Le formulaire contient une erreur',
    invalidCredentials: "Le code d'utilisateur ou le mot de passe est incorrect.",
    throttledStart: 'Trop de tentatives',
    accountTitle: 'Mon compte',
    greeting: (name: string) => `Bonjour, ${name}`,
    noticeTitle: "Avis d'utilisation autorisée",
    accountSignOut: 'Me déconnecter',
    menuMyAccount: 'Mon compte',
    menuSignOut: 'Déconnexion',
    signedOut: 'Vous êtes déconnecté. À bientôt !',
    helpdeskPhone: '514-987-3000 poste 5050',
    mailboxTitle: 'Boîte aux lettres de démonstration',
  },
  en: {
    institution: 'Demo University',
    homeTitle: 'Welcome to the Demo University account portal',
    tagline: 'Your account, self-service',
    languageSwitch: 'Français',
    skipLink: 'Skip to main content',
    homeSignInLink: 'Sign in',
    signinTitle: 'Sign in',
    loginLabel: 'User ID',
    passwordLabel: 'Password',
    submit: 'Sign in',
    errorSummaryTitle: 'There is a problem with the form',
    invalidCredentials: 'The user ID or password is incorrect.',
    throttledStart: 'Too many attempts',
    accountTitle: 'My account',
    greeting: (name: string) => `Hello, ${name}`,
    noticeTitle: 'Authorized use notice',
    accountSignOut: 'Sign me out',
    menuMyAccount: 'My account',
    menuSignOut: 'Sign out',
    signedOut: 'You are signed out. See you soon!',
    helpdeskPhone: '514-987-3000 poste 5050',
    mailboxTitle: 'Demo mailbox',
  },
} as const;

export type Words = (typeof WORDS)[Lang];

/**
 * `test` with `mode`: 'js' in the `js` project (islands hydrated in the browser),
 * 'nojs' in the `nojs` project (plain HTML forms and 303 redirects).
 */
export const test = base.extend<{ mode: Mode }>({
  mode: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled === false ? 'nojs' : 'js');
  },
});

/**
 * Chooses the portal's language for this browser context the way the language switch
 * does: the `sesame-lang` cookie. `?lang=` alone lasts one request, and the page after a
 * form post (a redirect without `?lang=`) would otherwise follow the browser's language.
 */
export async function setLanguage(page: Page, lang: Lang): Promise<void> {
  const baseURL = test.info().project.use.baseURL ?? 'http://127.0.0.1:3100';
  await page.context().addCookies([
    { name: 'sesame-lang', value: lang, url: baseURL, sameSite: 'Lax', httpOnly: false, secure: false },
  ]);
}

/**
 * Lets the page settle after a full page load: without JavaScript the `load` event is
 * enough; with it, wait until a page with islands has fetched the client (no request for
 * 500 ms), so its islands are awake when the test starts typing.
 */
export async function settle(page: Page, mode: Mode): Promise<void> {
  await page.waitForLoadState('load');
  if (mode === 'js') {
    await page.waitForLoadState('networkidle');
  }
  // A page holding islands brings exactly one loader of the client; a page without any,
  // none (app/src/components/client.rs). A synchronous evaluate works without JavaScript.
  const { islands, loaders } = await page.evaluate(() => ({
    islands: document.querySelectorAll('leptos-island').length,
    loaders: document.querySelectorAll('script[type="module"]').length,
  }));
  expect(loaders, `${page.url()}: loaders for ${islands} island(s)`).toBe(islands > 0 ? 1 : 0);
}

/** `page.goto` then `settle`. */
export async function open(page: Page, mode: Mode, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response, `no response for ${url}`).not.toBeNull();
  expect(response!.status(), `HTTP status of ${url}`).toBeLessThan(400);
  await settle(page, mode);
}

/** The page's `<main>` region. */
export function main(page: Page): Locator {
  return page.locator('main#main');
}

/**
 * Runs axe-core with the WCAG 2.0/2.1 A and AA and WCAG 2.2 AA rules and expects no
 * violation. A failure lists every violation with its elements, and the full results are
 * attached to the test.
 *
 * Without JavaScript, Chromium runs no timers in the page, and axe-core needs them: it
 * would wait forever. So in the `nojs` project axe scans a copy of the page's current
 * DOM (scripts removed, `<noscript>` content kept as the no-JS browser shows it) loaded
 * at the same URL, with the same styles, viewport and colour scheme, in a scratch
 * JavaScript-enabled context whose own script requests are refused.
 */
export async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const javaScriptDisabled = test.info().project.use.javaScriptEnabled === false;
  const results = javaScriptDisabled ? await analyzeNoJsCopy(page) : await analyze(page);
  const violations = results.violations;
  if (violations.length > 0) {
    await test.info().attach(`axe-${slug(name)}.json`, {
      body: JSON.stringify(violations, null, 2),
      contentType: 'application/json',
    });
  }
  const readable = violations.map((violation) => {
    const nodes = violation.nodes
      .map((node) => {
        const summary = (node.failureSummary ?? '').replace(/\s*\n\s*/g, ' / ');
        return `      - ${node.target.join(' ')}\n        ${node.html}\n        ${summary}`;
      })
      .join('\n');
    return `[${violation.impact ?? 'unknown'}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n${nodes}`;
  });
  expect(readable, `axe violations on "${name}" (${page.url()}):\n${readable.join('\n')}`).toEqual([]);
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

function analyze(page: Page) {
  return new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
}

async function analyzeNoJsCopy(page: Page) {
  // The DOM as the no-JS browser has it. A synchronous evaluate works without JavaScript.
  const html = await page.evaluate(() => {
    const root = document.documentElement.cloneNode(true) as HTMLElement;
    root.querySelectorAll('script').forEach((script) => script.remove());
    root.querySelectorAll('noscript').forEach((noscript) => {
      const holder = document.createElement('div');
      holder.innerHTML = noscript.innerHTML;
      noscript.replaceWith(...Array.from(holder.childNodes));
    });
    return `<!DOCTYPE html>\n${root.outerHTML}`;
  });
  const browser = page.context().browser();
  if (!browser) {
    throw new Error('no browser behind this page: cannot make the scratch context for axe');
  }
  const url = page.url();
  const scratch = await browser.newContext({
    javaScriptEnabled: true,
    viewport: page.viewportSize(),
    colorScheme: test.info().project.use.colorScheme ?? 'light',
    locale: test.info().project.use.locale,
  });
  try {
    const copy = await scratch.newPage();
    await copy.route('**/*', async (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && request.frame() === copy.mainFrame()) {
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      } else if (request.resourceType() === 'script') {
        await route.abort();
      } else {
        await route.continue();
      }
    });
    await copy.goto(url, { waitUntil: 'load' });
    return await analyze(copy);
  } finally {
    await scratch.close();
  }
}

/** The two sizes every screenshot is taken at: a phone and a laptop. */
export const SCREENSHOT_SIZES = [
  { width: 375, height: 812 },
  { width: 1280, height: 800 },
] as const;

/**
 * Saves full-page screenshots at 375×812 and 1280×800 under the test's output folder and
 * attaches them to the report; the viewport is restored afterwards.
 */
export async function screenshots(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const original = page.viewportSize();
  try {
    for (const size of SCREENSHOT_SIZES) {
      await page.setViewportSize(size);
      // Let layout and web fonts catch up with the new width before the picture.
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      const file = testInfo.outputPath(`${slug(name)}-${size.width}x${size.height}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
      await testInfo.attach(`${name} ${size.width}x${size.height}`, { path: file, contentType: 'image/png' });
    }
  } finally {
    if (original) {
      await page.setViewportSize(original);
    }
  }
}

/** Fills the sign-in form (already on /signin) and submits it with the button. */
export async function submitSignIn(page: Page, w: Words, login: string, password: string): Promise<void> {
  const form = main(page);
  await form.getByLabel(w.loginLabel, { exact: true }).fill(login);
  await form.getByLabel(w.passwordLabel, { exact: true }).fill(password);
  await form.getByRole('button', { name: w.submit, exact: true }).click();
}

/** Signs in from a fresh sign-in page and waits for "My account". */
export async function signIn(
  page: Page,
  mode: Mode,
  lang: Lang,
  login: string,
  password: string = DEMO_PASSWORD,
): Promise<void> {
  const w = WORDS[lang];
  await open(page, mode, `/signin?lang=${lang}`);
  await submitSignIn(page, w, login, password);
  await expect(page).toHaveURL(/\/account$/);
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.accountTitle);
}

/** A file-name-safe form of a label. */
export function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
