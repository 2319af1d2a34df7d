/**
 * Signing in with the keyboard alone: the skip link comes first and moves focus to the
 * main content, Tab reaches the fields in order, Enter submits, and every focused
 * element shows a focus indicator. Runs with and without JavaScript.
 */
import type { Locator } from '@playwright/test';
import { DEMO_PASSWORD, DEMO_PEOPLE, WORDS, expect, main, open, setLanguage, test } from './support';

/** The focused element must draw a focus indicator: an outline, or a box-shadow ring. */
async function expectVisibleFocusIndicator(locator: Locator, what: string): Promise<void> {
  await expect(locator, `${what} should have keyboard focus`).toBeFocused();
  const style = await locator.evaluate((element) => {
    const computed = getComputedStyle(element);
    return {
      outlineStyle: computed.outlineStyle,
      outlineWidth: computed.outlineWidth,
      boxShadow: computed.boxShadow,
    };
  });
  const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ringed = style.boxShadow !== 'none' && style.boxShadow !== '';
  expect(outlined || ringed, `${what} shows no focus indicator: ${JSON.stringify(style)}`).toBe(true);
}

test('keyboard only: skip link, Tab through the form, Enter signs in', async ({ page, mode }) => {
  const w = WORDS.en;
  const person = DEMO_PEOPLE.jean;
  await setLanguage(page, 'en');
  await open(page, mode, '/signin?lang=en');

  // The first Tab of the page lands on the skip link, which then shows on screen.
  await page.keyboard.press('Tab');
  const skipLink = page.locator('a.skip-link');
  await expect(skipLink).toHaveText(w.skipLink);
  await expectVisibleFocusIndicator(skipLink, 'the skip link');
  await expect(skipLink).toBeInViewport();

  // Enter follows it: the next Tab starts from the main content, past the header's links.
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
  await page.keyboard.press('Tab');
  const loginField = main(page).getByLabel(w.loginLabel, { exact: true });
  await expectVisibleFocusIndicator(loginField, `the ${w.loginLabel} field (first Tab after the skip link)`);
  await page.keyboard.type(person.login);

  await page.keyboard.press('Tab');
  const passwordField = main(page).getByLabel(w.passwordLabel, { exact: true });
  await expectVisibleFocusIndicator(passwordField, `the ${w.passwordLabel} field`);
  await page.keyboard.type(DEMO_PASSWORD);
  await expect(loginField).toHaveValue(person.login);

  // Enter in a field submits the form.
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/account$/);
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.accountTitle);
  await expect(main(page)).toContainText(w.greeting(person.name));
});
