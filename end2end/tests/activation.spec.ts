/**
 * Activation from a letter (seed 001), as a person does it: the operator imports them and
 * prints their letter with `sesame admin`, then the person goes through the ten steps,
 * reading the mail from the `.eml` folder. French and English, with and without
 * JavaScript (the `js` and `nojs` projects), an axe scan of every step, and the temporary
 * staff journeys on a 375 px phone screen.
 */
import type { Browser, Page } from '@playwright/test';
import { type Lang, type Mode, LANGS, expect, expectNoAxeViolations, main, open, screenshots, setLanguage, settle, test } from './support';
import { type Category, importWithLetter, lastMailTo } from './operator';

const NEW_PASSWORD = 'Castor-Érable;2026-Nord';

const W = {
  fr: {
    step: (n: number) => `Étape ${n} sur 10`,
    loginTitle: "Votre code d'utilisateur",
    loginLabel: "Code d'utilisateur",
    passwordTitle: 'Votre mot de passe provisoire',
    passwordLabel: 'Mot de passe provisoire',
    next: 'Suivant',
    invalid: "Le code d'utilisateur ou le mot de passe provisoire est incorrect.",
    recoveryTitle: 'Votre adresse courriel de secours',
    recoveryLabel: 'Adresse courriel de secours',
    recoveryConfirm: "Confirmez l'adresse",
    mismatch: 'Les deux adresses ne sont pas identiques.',
    checkTitle: 'Consultez vos courriels',
    codeLabel: 'Code à 6 chiffres',
    resend: 'Envoyer un nouveau courriel',
    linkTitle: "Continuer l'activation",
    linkButton: 'Confirmer et continuer',
    linkExpiredTitle: 'Ce lien ne fonctionne plus',
    startAgain: "Recommencer l'activation",
    mailSubject: 'Activation de votre compte',
    charterTitle: 'La charte informatique',
    charterAccept: "J'ai lu la charte informatique et je l'accepte.",
    charterRequired: 'Pour continuer, cochez la case',
    directoryTitle: "L'annuaire public",
    directoryYes: "Oui, je veux apparaître dans l'annuaire public",
    directoryNo: "Non, je ne veux pas apparaître dans l'annuaire public",
    mailboxTitle: 'Votre messagerie',
    forwardChoice: 'Rediriger mes messages vers une autre adresse',
    forwardLabel: 'Adresse de redirection',
    keepCopy: 'Garder une copie des messages',
    forwardRequired: "Entrez l'adresse vers laquelle rediriger vos messages.",
    forwardCheckTitle: "Confirmez l'adresse de redirection",
    newPasswordTitle: 'Votre nouveau mot de passe',
    newPasswordLabel: 'Nouveau mot de passe',
    newPasswordConfirm: 'Confirmez le nouveau mot de passe',
    finish: 'Activer mon compte',
    weak: 'Ce mot de passe ne respecte pas les règles suivantes',
    doneTitle: 'Votre compte est activé',
    signIn: 'Ouvrir une session',
    signinLogin: "Code d'utilisateur",
    signinPassword: 'Mot de passe',
    accountTitle: 'Mon compte',
  },
  en: {
    step: (n: number) => `Step ${n} of 10`,
    loginTitle: 'Your user ID',
    loginLabel: 'User ID',
    passwordTitle: 'Your provisional password',
    passwordLabel: 'Provisional password',
    next: 'Next',
    invalid: 'The user ID or the provisional password is wrong.',
    recoveryTitle: 'Your recovery email address',
    recoveryLabel: 'Recovery email address',
    recoveryConfirm: 'Confirm the address',
    mismatch: 'The two addresses are not the same.',
    checkTitle: 'Check your email',
    codeLabel: '6-digit code',
    resend: 'Send a new email',
    linkTitle: 'Continue the activation',
    linkButton: 'Confirm and continue',
    linkExpiredTitle: 'This link no longer works',
    startAgain: 'Start the activation again',
    mailSubject: 'Activating your account',
    charterTitle: 'The IT charter',
    charterAccept: 'I have read the IT charter and I accept it.',
    charterRequired: 'To continue, tick the box',
    directoryTitle: 'The public directory',
    directoryYes: 'Yes, I want to appear in the public directory',
    directoryNo: 'No, I do not want to appear in the public directory',
    mailboxTitle: 'Your mailbox',
    forwardChoice: 'Forward my mail to another address',
    forwardLabel: 'Forwarding address',
    keepCopy: 'Keep a copy of messages',
    forwardRequired: 'Enter the address to forward your mail to.',
    forwardCheckTitle: 'Confirm the forwarding address',
    newPasswordTitle: 'Your new password',
    newPasswordLabel: 'New password',
    newPasswordConfirm: 'Confirm the new password',
    finish: 'Activate my account',
    weak: 'This password does not meet these rules',
    doneTitle: 'Your account is active',
    signIn: 'Sign in',
    signinLogin: 'User ID',
    signinPassword: 'Password',
    accountTitle: 'My account',
  },
} as const;

type Words = (typeof W)[Lang];

let serial = 0;
/** A login no other test uses (the server's database lives for the whole run). */
function uniqueLogin(prefix: string, lang: Lang, mode: Mode): string {
  serial += 1;
  return `${prefix}-${lang}-${mode}-${Date.now().toString(36)}${serial}`;
}

async function expectStep(page: Page, w: Words, n: number, title: string): Promise<void> {
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(main(page).locator('.step-counter')).toHaveText(w.step(n));
}

async function next(page: Page, w: Words, label: string = w.next): Promise<void> {
  await main(page).getByRole('button', { name: label, exact: true }).first().click();
}

async function expectError(page: Page, text: string): Promise<void> {
  const summary = main(page).locator('.error-summary');
  await expect(summary).toBeVisible();
  await expect(summary).toContainText(text);
  await expect(summary).toBeFocused();
}

/** Opens an emailed link in another browser (a second device), and continues there. */
async function openLinkElsewhere(browser: Browser, mode: Mode, lang: Lang, link: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: mode === 'js', locale: 'fr-CA' });
  const page = await context.newPage();
  await setLanguage(page, lang);
  await open(page, mode, link);
  return page;
}

for (const lang of LANGS) {
  const w = W[lang];

  test.describe(`activation in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`permanent staff: mailbox, forwarding verified on another device (${lang})`, async ({
      page,
      mode,
      browser,
    }, testInfo) => {
      const login = uniqueLogin('perm', lang, mode);
      const provisional = importWithLetter({
        login,
        firstName: 'Élodie',
        lastName: 'Bergeron',
        category: 'permanent-staff',
        language: lang,
      });
      const recovery = `${login}@perso.example`;
      const forward = `${login}@ailleurs.example`;

      // Step 1, from the home page.
      await open(page, mode, '/');
      await main(page).getByRole('link', { name: w.finish }).click();
      await settle(page, mode);
      await expectStep(page, w, 1, w.loginTitle);
      await expectNoAxeViolations(page, `activation 1 (${lang})`);
      await main(page).getByLabel(w.loginLabel, { exact: true }).fill(login);
      await next(page, w);

      // Step 2: a wrong password first, then the letter's.
      await expectStep(page, w, 2, w.passwordTitle);
      await expectNoAxeViolations(page, `activation 2 (${lang})`);
      await main(page).getByLabel(w.passwordLabel, { exact: true }).fill('AAAA-BBBB-CCCC-DDDD');
      await next(page, w);
      await expectError(page, w.invalid);
      await expectNoAxeViolations(page, `activation 2, refused (${lang})`);
      await main(page).getByLabel(w.passwordLabel, { exact: true }).fill(provisional);
      await next(page, w);

      // Step 3: the confirmation must match.
      await expectStep(page, w, 3, w.recoveryTitle);
      await expectNoAxeViolations(page, `activation 3 (${lang})`);
      await main(page).getByLabel(w.recoveryLabel, { exact: true }).fill(recovery);
      await main(page).getByLabel(w.recoveryConfirm, { exact: true }).fill(`x${recovery}`);
      await next(page, w);
      await expectError(page, w.mismatch);
      await main(page).getByLabel(w.recoveryConfirm, { exact: true }).fill(recovery);
      await next(page, w);

      // Step 4: the code from the mail, typed here.
      await expectStep(page, w, 4, w.checkTitle);
      await expect(main(page)).toContainText(recovery);
      await expectNoAxeViolations(page, `activation 4 (${lang})`);
      const mail = await lastMailTo(recovery);
      expect(mail.subject).toContain(w.mailSubject);
      expect(mail.code).toMatch(/^\d{6}$/);
      await main(page).getByLabel(w.codeLabel, { exact: true }).fill(mail.code);
      await next(page, w);

      // Step 5: the charter must be accepted.
      await expectStep(page, w, 5, w.charterTitle);
      await expectNoAxeViolations(page, `activation 5 (${lang})`);
      await next(page, w);
      await expectError(page, w.charterRequired);
      await main(page).getByLabel(w.charterAccept).check();
      await next(page, w);

      // Step 6.
      await expectStep(page, w, 6, w.directoryTitle);
      await expectNoAxeViolations(page, `activation 6 (${lang})`);
      await main(page).getByLabel(w.directoryYes).check();
      await next(page, w);

      // Step 7: the mailbox, forwarded elsewhere, keeping a copy (checked by default).
      await expectStep(page, w, 7, w.mailboxTitle);
      await expect(main(page)).toContainText('elodie.bergeron');
      await expect(main(page).getByLabel(w.keepCopy)).toBeChecked();
      await expect(main(page).getByLabel(w.forwardLabel, { exact: true })).toHaveValue(recovery);
      await expectNoAxeViolations(page, `activation 7 (${lang})`);
      await main(page).getByLabel(w.forwardChoice).check();
      await main(page).getByLabel(w.forwardLabel, { exact: true }).fill(forward);
      await next(page, w);

      // Step 8: the forwarding address's link, opened on another device.
      await expectStep(page, w, 8, w.forwardCheckTitle);
      await expectNoAxeViolations(page, `activation 8 (${lang})`);
      const forwardMail = await lastMailTo(forward);
      const desktop = await openLinkElsewhere(browser, mode, lang, forwardMail.link);
      await expect(main(desktop).getByRole('heading', { level: 1 })).toHaveText(w.linkTitle);
      await expectNoAxeViolations(desktop, `activation link (${lang})`);
      await main(desktop).getByRole('button', { name: w.linkButton }).click();

      // Step 9 on the desktop: the policy, then a good password.
      await expectStep(desktop, w, 9, w.newPasswordTitle);
      await expectNoAxeViolations(desktop, `activation 9 (${lang})`);
      await main(desktop).getByLabel(w.newPasswordLabel, { exact: true }).fill('court');
      await main(desktop).getByLabel(w.newPasswordConfirm, { exact: true }).fill('court');
      await next(desktop, w, w.finish);
      await expectError(desktop, w.weak);
      await expectNoAxeViolations(desktop, `activation 9, refused (${lang})`);
      await main(desktop).getByLabel(w.newPasswordLabel, { exact: true }).fill(NEW_PASSWORD);
      if (mode === 'js') {
        // The checklist ticks every rule as the password is typed.
        const items = main(desktop).locator('.checklist__item');
        await expect(main(desktop).locator('.checklist__item--met')).toHaveCount(await items.count());
      }
      await main(desktop).getByLabel(w.newPasswordConfirm, { exact: true }).fill(NEW_PASSWORD);
      await next(desktop, w, w.finish);

      // Step 10, then a sign-in with the new password.
      await expectStep(desktop, w, 10, w.doneTitle);
      await expect(main(desktop)).toContainText(login);
      await expectNoAxeViolations(desktop, `activation 10 (${lang})`);
      await screenshots(desktop, testInfo, `activation done ${lang}`);
      await main(desktop).getByRole('link', { name: w.signIn }).click();
      await settle(desktop, mode);
      await main(desktop).getByLabel(w.signinLogin, { exact: true }).fill(login);
      await main(desktop).getByLabel(w.signinPassword, { exact: true }).fill(NEW_PASSWORD);
      await main(desktop).getByRole('button', { name: w.signIn, exact: true }).click();
      await expect(main(desktop).getByRole('heading', { level: 1 })).toHaveText(w.accountTitle);
      await desktop.context().close();
    });

    test(`temporary staff on a phone: forwarding required, links replaced by a new mail (${lang})`, async ({
      page,
      mode,
      browser,
    }, testInfo) => {
      await page.setViewportSize({ width: 375, height: 812 });
      const login = uniqueLogin('temp', lang, mode);
      const category: Category = 'temporary-staff';
      const provisional = importWithLetter({ login, firstName: 'Noé', lastName: 'Ouellet', category, language: lang });
      const recovery = `${login}@perso.example`;

      await open(page, mode, '/activate');
      await main(page).getByLabel(w.loginLabel, { exact: true }).fill(login);
      await next(page, w);
      await main(page).getByLabel(w.passwordLabel, { exact: true }).fill(provisional);
      await next(page, w);
      await main(page).getByLabel(w.recoveryLabel, { exact: true }).fill(recovery);
      await main(page).getByLabel(w.recoveryConfirm, { exact: true }).fill(recovery);
      await next(page, w);
      await expectStep(page, w, 4, w.checkTitle);

      // A new mail replaces the first: the first link explains it no longer works.
      const first = await lastMailTo(recovery);
      await main(page).getByRole('button', { name: w.resend }).click();
      await settle(page, mode);
      const second = await lastMailTo(recovery, first.link);
      const stale = await openLinkElsewhere(browser, mode, lang, first.link);
      await expect(main(stale).getByRole('heading', { level: 1 })).toHaveText(w.linkExpiredTitle);
      await expect(main(stale).getByRole('link', { name: w.startAgain })).toBeVisible();
      await expectNoAxeViolations(stale, `activation link expired (${lang})`);
      await stale.context().close();

      // The new link, opened in this same browser, continues here.
      await open(page, mode, second.link);
      await main(page).getByRole('button', { name: w.linkButton }).click();
      await expectStep(page, w, 5, w.charterTitle);
      await main(page).getByLabel(w.charterAccept).check();
      await next(page, w);
      await expectStep(page, w, 6, w.directoryTitle);
      await main(page).getByLabel(w.directoryNo).check();
      await next(page, w);

      // 7 bis: no mailbox; the forwarding address is required (the recovery email is offered).
      await expectStep(page, w, 7, w.mailboxTitle);
      await expectNoAxeViolations(page, `activation 7 bis (${lang})`);
      await main(page).getByLabel(w.forwardLabel, { exact: true }).fill('');
      await next(page, w);
      await expectError(page, w.forwardRequired);
      await main(page).getByLabel(w.forwardLabel, { exact: true }).fill(recovery);
      await next(page, w);

      // Forwarding to the verified recovery email: no second verification.
      await expectStep(page, w, 9, w.newPasswordTitle);
      await main(page).getByLabel(w.newPasswordLabel, { exact: true }).fill(NEW_PASSWORD);
      await main(page).getByLabel(w.newPasswordConfirm, { exact: true }).fill(NEW_PASSWORD);
      await next(page, w, w.finish);
      await expectStep(page, w, 10, w.doneTitle);
      await screenshots(page, testInfo, `activation temporary done ${lang}`);
      // Nothing overflows sideways on the phone.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    });
  });
}
