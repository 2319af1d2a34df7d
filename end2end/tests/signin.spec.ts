/**
 * Home page, language switch, sign-in (refusals, throttle, success) and sign-out, in
 * French and English, with and without JavaScript (the `js` and `nojs` projects).
 */
import {
  DEMO_PASSWORD,
  DEMO_PEOPLE,
  LANGS,
  WORDS,
  expect,
  expectNoAxeViolations,
  main,
  open,
  screenshots,
  setLanguage,
  settle,
  signIn,
  submitSignIn,
  test,
} from './support';

test.describe('language switch', () => {
  test('the English link turns the portal English, and the choice is kept', async ({ page, mode }) => {
    // No cookie yet: the browser speaks French (fr-CA), so the portal does too.
    await open(page, mode, '/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
    await expect(main(page).getByRole('heading', { level: 1 })).toContainText(WORDS.fr.institution);
    await expectNoAxeViolations(page, 'home (fr, before the switch)');

    const toEnglish = page.locator('header.site-header nav a.language-switch');
    await expect(toEnglish).toHaveText(WORDS.fr.languageSwitch);
    await expect(toEnglish).toHaveAttribute('href', /^\/lang\/en\?next=/);
    await toEnglish.click(); // rel=external: a full page load in both modes
    await expect(page).toHaveURL(/\/$/);
    await settle(page, mode);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(main(page).getByRole('heading', { level: 1 })).toContainText(WORDS.en.institution);
    await expect(page.locator('header.site-header nav a.language-switch')).toHaveText(WORDS.en.languageSwitch);

    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'sesame-lang')?.value, 'the sesame-lang cookie').toBe('en');

    // A new load of `/` without ?lang= stays English: the cookie wins over the browser.
    await open(page, mode, '/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(main(page).getByRole('heading', { level: 1 })).toContainText(WORDS.en.institution);
    await expectNoAxeViolations(page, 'home (en, after the switch)');
  });
});

for (const lang of LANGS) {
  const w = WORDS[lang];

  test.describe(`in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`home page (${lang})`, async ({ page, mode }, testInfo) => {
      await open(page, mode, `/?lang=${lang}`);
      await expect(page.locator('html')).toHaveAttribute('lang', lang);
      // The home page comes without the client (preload.spec.ts): its title is the server's.
      await expect(page).toHaveTitle(`${w.tagline} · Sésame`);
      await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.homeTitle);
      await expect(main(page).getByRole('heading', { level: 1 })).toContainText(w.institution);
      const signInLink = main(page).getByRole('link', { name: w.homeSignInLink, exact: true });
      await expect(signInLink).toBeVisible();
      await expect(signInLink).toHaveAttribute('href', '/signin');
      await expect(page.locator('a.skip-link')).toHaveText(w.skipLink);
      await expect(page.locator('footer')).toContainText(w.helpdeskPhone);
      await expectNoAxeViolations(page, `home (${lang})`);
      await screenshots(page, testInfo, `home-${lang}`);

      await signInLink.click();
      await expect(page).toHaveURL(/\/signin$/);
      await settle(page, mode);
      await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.signinTitle);
      // A page reached by a link has its own title.
      await expect(page).toHaveTitle(`${w.signinTitle} · Sésame`);
      await expect(main(page).getByLabel(w.loginLabel, { exact: true })).toHaveAttribute('autocomplete', 'username');
      await expect(main(page).getByLabel(w.passwordLabel, { exact: true })).toHaveAttribute(
        'autocomplete',
        'current-password',
      );
      await expectNoAxeViolations(page, `sign-in page (${lang})`);
    });

    test(`a wrong password and an unknown user ID get the same answer (${lang})`, async ({ page, mode }, testInfo) => {
      const answers: string[] = [];
      // marie.tremblay gets one wrong password per language and project: 4 in a run, under
      // the lock at the 5th (SESAME_THROTTLE_SIGNIN_PER_ACCOUNT=5). Mind it when adding some.
      const cases = [
        { login: DEMO_PEOPLE.marie.login, what: 'wrong password' },
        { login: 'nobody.here', what: 'unknown user ID' },
      ];
      for (const { login, what } of cases) {
        // A fresh page each time: the error summary appearing is then the new answer.
        await open(page, mode, `/signin?lang=${lang}`);
        await expect(page.locator('.error-summary')).toHaveCount(0);
        await submitSignIn(page, w, login, 'Pas-Le-Bon-Mot-De-Passe-7');

        const summary = page.locator('.error-summary');
        await expect(summary).toBeVisible();
        await expect(summary).toHaveAttribute('role', 'alert');
        await expect(summary.getByRole('heading')).toHaveText(w.errorSummaryTitle);
        await expect(summary.getByRole('link', { name: w.invalidCredentials, exact: true })).toHaveAttribute(
          'href',
          '#login',
        );
        await expect(page).toHaveURL(/\/signin\?flow=/);
        await settle(page, mode);
        await expect(page.locator('html')).toHaveAttribute('lang', lang);
        const loginField = main(page).getByLabel(w.loginLabel, { exact: true });
        await expect(loginField).toHaveValue(login);
        // The submit button is back to its resting label (JS mode shows "Signing in…").
        await expect(main(page).getByRole('button', { name: w.submit, exact: true })).toBeVisible();
        await expectNoAxeViolations(page, `sign-in refused, ${what} (${lang})`);
        if (answers.length === 0) {
          await screenshots(page, testInfo, `signin-error-${lang}`);
        }
        const text = (await main(page).innerText()).split(login).join('<login>');
        answers.push(text);
      }
      expect(answers[1], 'the page for an unknown user ID must not differ from a wrong password').toBe(answers[0]);
    });

    test(`sign in, see my account, sign out (${lang})`, async ({ page, mode }, testInfo) => {
      await signIn(page, mode, lang, DEMO_PEOPLE.jean.login, DEMO_PASSWORD);
      await expect(page.locator('html')).toHaveAttribute('lang', lang);
      await expect(main(page)).toContainText(w.greeting(DEMO_PEOPLE.jean.name));
      await expect(main(page)).toContainText(DEMO_PEOPLE.jean.name);
      const notice = main(page).getByRole('region', { name: w.noticeTitle });
      await expect(notice).toBeVisible();
      await expect(notice.getByRole('heading', { level: 2 })).toHaveText(w.noticeTitle);
      await expect(page.locator('details.account-menu summary')).toHaveText(DEMO_PEOPLE.jean.name);
      await expectNoAxeViolations(page, `account (${lang})`);
      await screenshots(page, testInfo, `account-${lang}`);

      await main(page).getByRole('button', { name: w.accountSignOut, exact: true }).click();
      await expect(page).toHaveURL(/\/\?signed_out=1$/);
      await settle(page, mode);
      const status = main(page).getByRole('status');
      await expect(status).toHaveText(w.signedOut);
      await expect(status).toHaveClass(/notice--success/);
      await expect(page.locator('details.account-menu')).toHaveCount(0);
      await expectNoAxeViolations(page, `signed out (${lang})`);

      // Signed out, "My account" sends back to the sign-in page.
      await page.goto('/account');
      await expect(page).toHaveURL(/\/signin(\?.*)?$/);
      await settle(page, mode);
      await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.signinTitle);
      await expectNoAxeViolations(page, `account while signed out (${lang})`);
    });

    test(`the name menu signs out (${lang})`, async ({ page, mode }) => {
      const person = DEMO_PEOPLE.alex;
      await signIn(page, mode, lang, person.login, DEMO_PASSWORD);

      const menu = page.locator('header.site-header details.account-menu');
      const toggle = menu.locator('summary.account-menu__toggle');
      await expect(toggle).toHaveText(person.name);
      await expect(menu).not.toHaveAttribute('open');
      const signOut = menu.getByRole('button', { name: w.menuSignOut, exact: true });
      await expect(signOut).toBeHidden();

      await toggle.click();
      await expect(menu).toHaveAttribute('open');
      await expect(menu.getByRole('link', { name: w.menuMyAccount, exact: true })).toHaveAttribute('href', '/account');
      await expect(signOut).toBeVisible();
      await expectNoAxeViolations(page, `account, name menu open (${lang})`);

      await signOut.click();
      await expect(page).toHaveURL(/\/\?signed_out=1$/);
      await settle(page, mode);
      await expect(main(page).getByRole('status')).toHaveText(w.signedOut);
      await expect(page.locator('details.account-menu')).toHaveCount(0);
      await expectNoAxeViolations(page, `signed out from the name menu (${lang})`);
    });

    test(`repeated failures lock the user ID for a while (${lang})`, async ({ page, mode }, testInfo) => {
      const login = `throttle-${lang}-${testInfo.project.name}-${Date.now()}`;
      const summary = page.locator('.error-summary');
      // SESAME_THROTTLE_SIGNIN_PER_ACCOUNT=5 (playwright.config.ts): failures 1–4 are
      // refused as wrong, the 5th locks the user ID.
      for (let attempt = 1; attempt <= 5; attempt++) {
        await test.step(`attempt ${attempt}`, async () => {
          await open(page, mode, `/signin?lang=${lang}`);
          await expect(summary).toHaveCount(0);
          await submitSignIn(page, w, login, `Mauvais-${attempt}`);
          await expect(summary).toBeVisible();
          if (attempt < 5) {
            await expect(summary).toContainText(w.invalidCredentials);
          } else {
            await expect(summary.getByRole('link')).toHaveText(new RegExp(`^${w.throttledStart}`));
          }
        });
      }
      await expect(page).toHaveURL(/\/signin\?flow=/);
      await settle(page, mode);
      await expect(main(page).getByLabel(w.loginLabel, { exact: true })).toHaveValue(login);
      await expectNoAxeViolations(page, `sign-in throttled (${lang})`);
    });
  });
}
