/** The demo mailbox (`sesame serve --demo`): where the portal's email lands in demo mode. */
import { LANGS, WORDS, expect, expectNoAxeViolations, main, setLanguage, settle, test } from './support';

for (const lang of LANGS) {
  test(`the demo mailbox answers (${lang})`, async ({ page, mode }) => {
    await setLanguage(page, lang);
    const response = await page.goto(`/dev/mailbox?lang=${lang}`);
    expect(response?.status(), 'HTTP status of /dev/mailbox').toBe(200);
    await settle(page, mode);
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(WORDS[lang].mailboxTitle);
    await expectNoAxeViolations(page, `demo mailbox (${lang})`);
  });
}
