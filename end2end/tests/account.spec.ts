/**
 * "My account" settings (seed 002): change the password (a wrong current password, then
 * the change, the notice mail, the other browser signed out, sign-in with the new one),
 * the sessions page (a second browser listed, then ended from the first), and a linked
 * account in a real LDAP directory that receives the new password. French and
 * English, with and without JavaScript, an axe scan of every page.
 */
import { LANGS, type Lang, type Mode, WORDS, expect, expectNoAxeViolations, main, open, setLanguage, signIn, test } from './support';
import { type HrRow, createActivePerson, lastMailTo } from './operator';
import { addDirectoryAccount, directoryAccepts } from './directory';
import type { Browser, Page } from '@playwright/test';

const W = {
  fr: {
    changePasswordLink: 'Changer mon mot de passe',
    changePasswordTitle: 'Changer mon mot de passe',
    current: 'Mot de passe actuel',
    newPassword: 'Nouveau mot de passe',
    confirm: 'Confirmez le nouveau mot de passe',
    submit: 'Changer le mot de passe',
    currentWrong: "Ce mot de passe n'est pas le bon.",
    done: 'Votre mot de passe a été changé.',
    sessionsEnded: "Sessions fermées sur d'autres appareils : 1.",
    noticeSubject: 'Votre mot de passe a été changé',
    sessionsLink: 'Mes sessions ouvertes',
    sessionsTitle: 'Mes sessions ouvertes',
    thisBrowser: 'Ce navigateur',
    end: 'Fermer cette session',
    endOthers: 'Fermer toutes les autres sessions',
    ended: 'Sessions fermées : 1.',
    onlyThis: "Aucune autre session n'est ouverte.",
    linkedLink: "Joindre d'autres comptes",
    linkedTitle: "Joindre d'autres comptes",
    system: 'Annuaire du campus',
    accountName: 'Nom du compte dans Annuaire du campus',
    accountPassword: 'Mot de passe de ce compte',
    link: 'Joindre ce compte',
    wrongCredentials: "Ce nom de compte ou ce mot de passe n'est pas reconnu par ce système.",
    linked: 'Le compte a été joint.',
    linkedAs: 'Compte joint : ',
    pushed: 'Annuaire du campus : mot de passe mis à jour.',
    unlink: 'Retirer ce lien',
    unlinked: 'Le lien a été retiré.',
  },
  en: {
    changePasswordLink: 'Change my password',
    changePasswordTitle: 'Change my password',
    current: 'Current password',
    newPassword: 'New password',
    confirm: 'Confirm the new password',
    submit: 'Change the password',
    currentWrong: 'This password is not right.',
    done: 'Your password was changed.',
    sessionsEnded: 'Sessions ended on other devices: 1.',
    noticeSubject: 'Your password was changed',
    sessionsLink: 'My open sessions',
    sessionsTitle: 'My open sessions',
    thisBrowser: 'This browser',
    end: 'End this session',
    endOthers: 'End all other sessions',
    ended: 'Sessions ended: 1.',
    onlyThis: 'No other session is open.',
    linkedLink: 'Link other accounts',
    linkedTitle: 'Link other accounts',
    system: 'Campus directory',
    accountName: 'Account name in Campus directory',
    accountPassword: 'Password of this account',
    link: 'Link this account',
    wrongCredentials: 'This system does not recognise this account name or password.',
    linked: 'The account was linked.',
    linkedAs: 'Linked account: ',
    pushed: 'Campus directory: password updated.',
    unlink: 'Remove this link',
    unlinked: 'The link was removed.',
  },
} as const;

const OLD_PASSWORD = 'Ancien-Mot-De-Passe-2024!';
const NEW_PASSWORD = 'Printemps-Bleu-2026!';

let serial = 0;

function person(lang: Lang, mode: Mode): HrRow {
  serial += 1;
  const tag = `${Date.now().toString(36)}${serial}`;
  return {
    login: `acct-${lang}-${mode}-${tag}`,
    firstName: 'Élise',
    lastName: 'Bouchard',
    dateOfBirth: '1984-09-03',
    employeeNumber: `A${tag.toUpperCase()}`,
    category: 'permanent-staff',
    language: lang,
    pin: '',
    sinLast6: '',
    email: `${tag}@bureau.example`,
  };
}

function heading(page: Page) {
  return main(page).getByRole('heading', { level: 1 });
}

/** A second browser (its own cookies), signed in as the same person. */
async function secondBrowser(browser: Browser, mode: Mode, lang: Lang, login: string, password: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: test.info().project.use.baseURL,
    javaScriptEnabled: mode === 'js',
    locale: lang === 'fr' ? 'fr-CA' : 'en-CA',
  });
  const page = await context.newPage();
  await setLanguage(page, lang);
  await signIn(page, mode, lang, login, password);
  return page;
}

for (const lang of LANGS) {
  const w = W[lang];

  test.describe(`in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`change the password: the current one first, then the other browser is signed out (${lang})`, async ({
      page,
      mode,
      browser,
    }) => {
      const p = person(lang, mode);
      createActivePerson(p, OLD_PASSWORD);
      const phone = await secondBrowser(browser, mode, lang, p.login, OLD_PASSWORD);
      await signIn(page, mode, lang, p.login, OLD_PASSWORD);

      await main(page).getByRole('link', { name: w.changePasswordLink, exact: true }).click();
      await expect(heading(page)).toHaveText(w.changePasswordTitle);
      await expect(main(page).getByLabel(w.current, { exact: true })).toHaveAttribute('autocomplete', 'current-password');
      await expect(main(page).getByLabel(w.newPassword, { exact: true })).toHaveAttribute('autocomplete', 'new-password');
      await expectNoAxeViolations(page, `change password (${lang})`);

      await main(page).getByLabel(w.current, { exact: true }).fill('Pas-le-bon-mot-de-passe-1');
      await main(page).getByLabel(w.newPassword, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByLabel(w.confirm, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.currentWrong);
      await expect(main(page).locator('#current_password-error')).toHaveText(w.currentWrong);
      // Switching language keeps the refusal on screen: the flow's id stays in the address.
      await expect(page.locator('header.site-header nav a.language-switch')).toHaveAttribute(
        'href',
        /\?next=\/account\/password%3Fflow%3D[0-9a-f]/,
      );
      await expectNoAxeViolations(page, `change password, wrong current password (${lang})`);

      await main(page).getByLabel(w.current, { exact: true }).fill(OLD_PASSWORD);
      await main(page).getByLabel(w.newPassword, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByLabel(w.confirm, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(main(page).getByRole('status').first()).toContainText(w.done);
      await expect(main(page)).toContainText(w.sessionsEnded);
      await expectNoAxeViolations(page, `change password, done (${lang})`);
      const notice = await lastMailTo(p.email);
      expect(notice.subject).toContain(w.noticeSubject);

      // The other browser was signed out: My account sends it to sign-in.
      await open(phone, mode, '/account');
      await expect(heading(phone)).toHaveText(WORDS[lang].signinTitle);
      await phone.context().close();

      // The new password opens a new session.
      await page.context().clearCookies();
      await setLanguage(page, lang);
      await signIn(page, mode, lang, p.login, NEW_PASSWORD);
    });

    test(`sessions: another browser is listed, then ended from this one (${lang})`, async ({ page, mode, browser }) => {
      const p = person(lang, mode);
      createActivePerson(p, OLD_PASSWORD);
      const phone = await secondBrowser(browser, mode, lang, p.login, OLD_PASSWORD);
      await signIn(page, mode, lang, p.login, OLD_PASSWORD);

      await main(page).getByRole('link', { name: w.sessionsLink, exact: true }).click();
      await expect(heading(page)).toHaveText(w.sessionsTitle);
      const sessions = main(page).locator('li.session');
      await expect(sessions).toHaveCount(2);
      await expect(sessions.first()).toContainText(w.thisBrowser);
      await expect(sessions.first()).toContainText('Chrom');
      await expectNoAxeViolations(page, `sessions (${lang})`);

      await sessions.nth(1).getByRole('button', { name: w.end }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.ended);
      await expect(main(page).locator('li.session')).toHaveCount(1);
      await expect(main(page)).toContainText(w.onlyThis);
      await expectNoAxeViolations(page, `sessions, one ended (${lang})`);

      await open(phone, mode, '/account');
      await expect(heading(phone)).toHaveText(WORDS[lang].signinTitle);
      await phone.context().close();
    });

    test(`link a directory account, which then receives the new password (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode);
      createActivePerson(p, OLD_PASSWORD);
      const uid = `${p.login}-annuaire`;
      const directoryPassword = 'Annuaire-Depart-2026!';
      addDirectoryAccount(uid, directoryPassword);
      await signIn(page, mode, lang, p.login, OLD_PASSWORD);

      await main(page).getByRole('link', { name: w.linkedLink, exact: true }).click();
      await expect(heading(page)).toHaveText(w.linkedTitle);
      await expect(main(page).getByRole('heading', { level: 2, name: w.system })).toBeVisible();
      await expectNoAxeViolations(page, `linked accounts (${lang})`);

      await main(page).getByLabel(w.accountName, { exact: true }).fill(uid);
      await main(page).getByLabel(w.accountPassword, { exact: true }).fill('Pas-le-bon-1');
      await main(page).getByRole('button', { name: w.link }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.wrongCredentials);
      await expect(main(page).getByLabel(w.accountName, { exact: true })).toHaveValue(uid);
      await expectNoAxeViolations(page, `linked accounts, refused (${lang})`);

      await main(page).getByLabel(w.accountPassword, { exact: true }).fill(directoryPassword);
      await main(page).getByRole('button', { name: w.link }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.linked);
      await expect(main(page)).toContainText(`${w.linkedAs}${uid}`);
      await expectNoAxeViolations(page, `linked accounts, linked (${lang})`);

      // A password change in Sésame reaches the directory.
      await open(page, mode, '/account/password');
      await main(page).getByLabel(w.current, { exact: true }).fill(OLD_PASSWORD);
      await main(page).getByLabel(w.newPassword, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByLabel(w.confirm, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(main(page).getByRole('status').first()).toContainText(w.done);
      await expect(main(page).locator('.pushes')).toHaveText(w.pushed);
      expect(directoryAccepts(uid, NEW_PASSWORD), 'the directory takes the new password').toBe(true);
      expect(directoryAccepts(uid, directoryPassword), 'the old one no longer').toBe(false);

      await open(page, mode, '/account/linked');
      await main(page).getByRole('button', { name: w.unlink }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.unlinked);
      await expect(main(page).getByLabel(w.accountName, { exact: true })).toBeVisible();
    });
  });
}

test('end all other sessions at once', async ({ page, mode, browser }) => {
  const lang: Lang = 'en';
  const w = W[lang];
  await setLanguage(page, lang);
  const p = person(lang, mode);
  createActivePerson(p, OLD_PASSWORD);
  const tablet = await secondBrowser(browser, mode, lang, p.login, OLD_PASSWORD);
  const phone = await secondBrowser(browser, mode, lang, p.login, OLD_PASSWORD);
  await signIn(page, mode, lang, p.login, OLD_PASSWORD);
  await open(page, mode, '/account/sessions');
  await expect(main(page).locator('li.session')).toHaveCount(3);
  await main(page).getByRole('button', { name: w.endOthers }).click();
  await expect(main(page).getByRole('status')).toHaveText('Sessions ended: 2.');
  await expect(main(page).locator('li.session')).toHaveCount(1);
  for (const other of [tablet, phone]) {
    await open(other, mode, '/account');
    await expect(heading(other)).toHaveText(WORDS[lang].signinTitle);
    await other.context().close();
  }
});
