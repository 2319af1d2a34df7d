/**
 * Invitation-based registration (seed 003), as an invited person does it: the issuer's
 * real `sesame admin invite`, the "Sign up" link from the mail, names and the invited
 * address, a password with consent and the unseen bot check, the mailed code, then
 * sign-in with the address. Also "Can't sign in?" in its three cases, replayed and
 * replaced links, and new versions of the terms asked at the next sign-in. French and
 * English, with and without JavaScript, an axe scan of every page.
 */
import type { Page } from '@playwright/test';
import {
  LANGS,
  type Lang,
  type Mode,
  WORDS,
  expect,
  expectNoAxeViolations,
  main,
  open,
  setLanguage,
  settle,
  submitSignIn,
  test,
} from './support';
import { anyMailTo, invite, lastMailTo } from './operator';

const PASSWORD = 'Diplome-Numerique-2026';
/** The instance started with new versions of the texts (playwright.config.ts). */
const BUMPED = 'http://127.0.0.1:3101';

const W = {
  fr: {
    identifyTitle: 'Créer votre compte',
    passwordTitle: 'Choisir votre mot de passe',
    verifyTitle: 'Confirmer votre adresse courriel',
    doneTitle: 'Votre compte est activé',
    usedTitle: 'Cette invitation a déjà été utilisée',
    invalidTitle: "Ce lien d'invitation ne fonctionne pas",
    lastName: 'Nom',
    firstName: 'Prénom',
    email: 'Adresse courriel',
    next: 'Suivant',
    mismatch: "Ce n'est pas l'adresse à laquelle l'invitation a été envoyée.",
    newPassword: 'Nouveau mot de passe',
    confirmPassword: 'Confirmez le nouveau mot de passe',
    consent: "Oui, je consens aux conditions d'utilisation et à la politique de confidentialité",
    consentRequired: 'vous devez consentir',
    code: 'Code à 6 chiffres',
    activate: 'Activer mon compte',
    signIn: 'Ouvrir une session',
    cantSignIn: 'Vous ne pouvez vous connecter ?',
    cantEmail: 'Adresse courriel',
    cantSubmit: 'Envoyer les instructions',
    sentTitle: 'Consultez vos courriels',
    activationSubject: 'Activez votre compte',
    resetSubject: 'Votre code pour changer votre mot de passe',
    linkTitle: 'Activer votre compte',
    termsTitle: 'Les conditions ont changé',
    termsContinue: 'Continuer',
    termsRequired: 'Pour continuer, consentez',
  },
  en: {
    identifyTitle: 'Create your account',
    passwordTitle: 'Choose your password',
    verifyTitle: 'Confirm your email address',
    doneTitle: 'Your account is active',
    usedTitle: 'This invitation was already used',
    invalidTitle: 'This invitation link does not work',
    lastName: 'Last name',
    firstName: 'First name',
    email: 'Email address',
    next: 'Next',
    mismatch: 'This is not the address the invitation was sent to.',
    newPassword: 'New password',
    confirmPassword: 'Confirm the new password',
    consent: 'Yes, I consent to the terms of use and the privacy policy',
    consentRequired: 'you must consent',
    code: '6-digit code',
    activate: 'Activate my account',
    signIn: 'Sign in',
    cantSignIn: "Can't sign in?",
    cantEmail: 'Email address',
    cantSubmit: 'Send the instructions',
    sentTitle: 'Check your email',
    activationSubject: 'Activate your account',
    resetSubject: 'Your code to change your password',
    linkTitle: 'Activate your account',
    termsTitle: 'The terms have changed',
    termsContinue: 'Continue',
    termsRequired: 'To continue, consent',
  },
} as const;

let serial = 0;

function address(lang: Lang, mode: Mode, role: string): string {
  serial += 1;
  return `${role}-${lang}-${mode}-${Date.now().toString(36)}${serial}@diplomes.example`;
}

function heading(page: Page) {
  return main(page).getByRole('heading', { level: 1 });
}

/** From the invitation link to the code page; axe-scans each page when `scan`. */
async function signUpToCode(page: Page, mode: Mode, lang: Lang, email: string, scan: boolean): Promise<string> {
  const w = W[lang];
  const link = await invite(email, lang, 'Cégep Démo');
  await open(page, mode, link.replace(/^https?:\/\/[^/]+/, ''));
  await expect(heading(page)).toHaveText(w.identifyTitle);
  await expect(main(page)).toContainText('Cégep Démo');
  if (scan) {
    await expectNoAxeViolations(page, `sign up, names (${lang})`);
    // Not the invited address: said so, without naming the right one.
    await main(page).getByLabel(w.lastName, { exact: true }).fill('Bélanger');
    await main(page).getByLabel(w.firstName, { exact: true }).fill('Noémie');
    await main(page).getByLabel(w.email, { exact: true }).fill('someone.else@example.org');
    await main(page).getByRole('button', { name: w.next }).click();
    const summary = main(page).locator('.error-summary');
    await expect(summary).toContainText(w.mismatch);
    await expect(summary).toBeFocused();
    await expect(summary).not.toContainText(email);
    await expectNoAxeViolations(page, `sign up, address refused (${lang})`);
  }
  await main(page).getByLabel(w.lastName, { exact: true }).fill('Bélanger');
  await main(page).getByLabel(w.firstName, { exact: true }).fill('Noémie');
  await main(page).getByLabel(w.email, { exact: true }).fill(email.toUpperCase());
  await main(page).getByRole('button', { name: w.next }).click();
  await settle(page, mode);
  await expect(heading(page)).toHaveText(w.passwordTitle);
  if (scan) {
    await expectNoAxeViolations(page, `sign up, password (${lang})`);
    // Without the consent, nothing is created.
    await main(page).getByLabel(w.newPassword, { exact: true }).fill(PASSWORD);
    await main(page).getByLabel(w.confirmPassword, { exact: true }).fill(PASSWORD);
    await waitForBotCheck(page, mode);
    await main(page).getByRole('button', { name: w.next }).click();
    await expect(main(page).locator('.error-summary')).toContainText(w.consentRequired);
    await expectNoAxeViolations(page, `sign up, consent refused (${lang})`);
  }
  await main(page).getByLabel(w.newPassword, { exact: true }).fill(PASSWORD);
  await main(page).getByLabel(w.confirmPassword, { exact: true }).fill(PASSWORD);
  await main(page).getByLabel(w.consent).check();
  await waitForBotCheck(page, mode);
  await main(page).getByRole('button', { name: w.next }).click();
  await settle(page, mode);
  await expect(heading(page)).toHaveText(w.verifyTitle);
  return link;
}

/** With JavaScript, the browser solves the bot check unseen: wait for it, report its time. */
async function waitForBotCheck(page: Page, mode: Mode): Promise<void> {
  if (mode === 'nojs') {
    return;
  }
  const check = main(page).locator('[data-bot-check]');
  await expect(check).toHaveAttribute('data-bot-check', 'solved', { timeout: 20_000 });
  const ms = await check.getAttribute('data-solve-ms');
  test.info().annotations.push({ type: 'bot check solve time (ms)', description: ms ?? '?' });
  console.log(`bot check solved in the browser in ${ms} ms`);
}

async function typeCode(page: Page, mode: Mode, lang: Lang, email: string): Promise<void> {
  const w = W[lang];
  const mail = await lastMailTo(email, '');
  expect(mail.subject).toContain(w.activationSubject);
  await main(page).getByLabel(w.code, { exact: true }).fill(mail.code);
  await main(page).getByRole('button', { name: w.activate }).click();
  await settle(page, mode);
  await expect(heading(page)).toHaveText(w.doneTitle);
}

for (const lang of LANGS) {
  const w = W[lang];
  const words = WORDS[lang];

  test.describe(`sign up from an invitation in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`invite, sign up, code, sign in with the address (${lang})`, async ({ page, mode }) => {
      const email = address(lang, mode, 'new');
      const link = await signUpToCode(page, mode, lang, email, true);
      await expectNoAxeViolations(page, `sign up, code (${lang})`);
      await typeCode(page, mode, lang, email);
      await expectNoAxeViolations(page, `sign up, done (${lang})`);

      await main(page).getByRole('link', { name: w.signIn }).click();
      await settle(page, mode);
      await submitSignIn(page, words, email, PASSWORD);
      await expect(heading(page)).toHaveText(words.accountTitle);

      // The invitation link again: it was used, and says so.
      await open(page, mode, link.replace(/^https?:\/\/[^/]+/, ''));
      await expect(heading(page)).toHaveText(w.usedTitle);
      await expectNoAxeViolations(page, `sign up, used link (${lang})`);
    });

    test(`a replaced link, and the texts to read (${lang})`, async ({ page, mode }) => {
      const email = address(lang, mode, 'replaced');
      const first = await invite(email, lang, 'Cégep Démo');
      const second = await invite(email, lang, 'Cégep Démo');
      expect(second).not.toBe(first);
      await open(page, mode, first.replace(/^https?:\/\/[^/]+/, ''));
      await expect(heading(page)).toHaveText(w.invalidTitle);
      await expectNoAxeViolations(page, `sign up, replaced link (${lang})`);
      await open(page, mode, second.replace(/^https?:\/\/[^/]+/, ''));
      await expect(heading(page)).toHaveText(w.identifyTitle);

      // The terms and the privacy policy, linked from the password step.
      for (const url of ['/terms', '/privacy']) {
        await open(page, mode, url);
        await expect(main(page).locator('p').first()).toContainText('2026-12');
        await expectNoAxeViolations(page, `legal text ${url} (${lang})`);
      }
    });

    test(`can't sign in: the same page in its three cases, the right mail or none (${lang})`, async ({ browser, page, mode }) => {
      const pending = address(lang, mode, 'pending');
      const active = address(lang, mode, 'active');
      const unknown = address(lang, mode, 'unknown');
      await signUpToCode(page, mode, lang, pending, false);
      await signUpToCode(page, mode, lang, active, false);
      await typeCode(page, mode, lang, active);

      const pages: string[] = [];
      for (const email of [pending, active, unknown]) {
        await open(page, mode, '/signin');
        await main(page).getByRole('link', { name: w.cantSignIn }).click();
        await settle(page, mode);
        await expect(heading(page)).toHaveText(w.cantSignIn);
        if (pages.length === 0) {
          await expectNoAxeViolations(page, `can't sign in (${lang})`);
        }
        await main(page).getByLabel(w.cantEmail, { exact: true }).fill(email);
        await waitForBotCheck(page, mode);
        await main(page).getByRole('button', { name: w.cantSubmit }).click();
        await settle(page, mode);
        await expect(heading(page)).toHaveText(w.sentTitle);
        if (pages.length === 0) {
          await expectNoAxeViolations(page, `can't sign in, sent (${lang})`);
        }
        pages.push(`${new URL(page.url()).pathname}${new URL(page.url()).search}\n${await main(page).innerText()}`);
      }
      expect(pages[1]).toBe(pages[0]);
      expect(pages[2]).toBe(pages[0]);

      const activation = await lastMailTo(pending);
      expect(activation.subject).toContain(w.activationSubject);
      expect(activation.link).toContain('/signup/link?token=');
      const reset = await lastMailTo(active);
      expect(reset.subject).toContain(w.resetSubject);
      expect(reset.link).toContain('/forgot-password/link?token=');
      expect(await anyMailTo(unknown)).toBe(false);

      // The activation link, opened on another device: a button activates the account.
      const phone = await browser.newContext({ javaScriptEnabled: mode === 'js', locale: lang === 'fr' ? 'fr-CA' : 'en-CA' });
      const other = await phone.newPage();
      await setLanguage(other, lang);
      await open(other, mode, activation.link.replace(/^https?:\/\/[^/]+/, ''));
      await expect(heading(other)).toHaveText(w.linkTitle);
      await expectNoAxeViolations(other, `sign up, activation link (${lang})`);
      await main(other).getByRole('button', { name: w.activate }).click();
      await settle(other, mode);
      await expect(heading(other)).toHaveText(w.doneTitle);
      await expectNoAxeViolations(other, `sign up, activated by link (${lang})`);
      await phone.close();

      await open(page, mode, '/signin');
      await submitSignIn(page, words, pending, PASSWORD);
      await expect(heading(page)).toHaveText(words.accountTitle);
    });

    test(`new versions of the terms are accepted at the next sign-in (${lang})`, async ({ page, mode }) => {
      const email = address(lang, mode, 'terms');
      await signUpToCode(page, mode, lang, email, false);
      await typeCode(page, mode, lang, email);

      // The instance that publishes version 2027-01 of the texts.
      await page.goto(`${BUMPED}/signin`);
      await settle(page, mode);
      await submitSignIn(page, words, email, PASSWORD);
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.termsTitle);
      await expect(main(page)).toContainText('2027-01');
      await expectNoAxeViolations(page, `terms changed (${lang})`);
      await main(page).getByRole('button', { name: w.termsContinue }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.termsRequired);
      await expectNoAxeViolations(page, `terms changed, refused (${lang})`);
      await main(page).getByLabel(w.consent).check();
      await main(page).getByRole('button', { name: w.termsContinue }).click();
      await settle(page, mode);
      await expect(heading(page)).toHaveText(words.accountTitle);
    });
  });
}
