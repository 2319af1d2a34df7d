/**
 * Forgot password (seeds 000, 002, 004): a retired employee with no email resets with the
 * employee number and PIN (or identity attributes); a staff member with the code or the
 * link mailed to them. Unknown accounts see the same pages; the throttle engages and
 * releases. People are made by the operator's real `sesame admin` commands. French and
 * English, with and without JavaScript, an axe scan of every page.
 */
import { LANGS, type Lang, type Mode, expect, expectNoAxeViolations, main, open, setLanguage, settle, signIn, test } from './support';
import { type HrRow, createActivePerson, disableQuestions, lastMailTo } from './operator';
import type { Page } from '@playwright/test';
import { createHmac } from 'node:crypto';

const W = {
  fr: {
    signinLink: 'Mot de passe oublié ?',
    title: 'Mot de passe oublié',
    identifier: "Code d'utilisateur ou adresse courriel",
    continue: 'Continuer',
    chooseTitle: "Prouvez que c'est vous",
    byEmail: 'Recevoir un code par courriel',
    byPin: 'Inscrire mon matricule et mon NIP',
    byIdentity: "Inscrire mon nom, ma date de naissance et des chiffres de mon numéro d'assurance sociale",
    employeeNumber: "Matricule d'employé",
    pin: 'NIP',
    firstName: 'Prénom',
    lastName: 'Nom',
    dateOfBirth: 'Date de naissance',
    sin: "Six derniers chiffres du numéro d'assurance sociale",
    notMatched: 'Ces renseignements ne correspondent pas à nos dossiers.',
    codeTitle: 'Consultez vos courriels',
    code: 'Code à 6 chiffres',
    codeWrong: "Ce code n'est pas le bon. Essais restants : 4.",
    newPasswordTitle: 'Choisissez un nouveau mot de passe',
    newPassword: 'Nouveau mot de passe',
    confirm: 'Confirmez le nouveau mot de passe',
    save: 'Changer mon mot de passe',
    doneTitle: 'Votre mot de passe a été changé',
    linkConfirm: 'Confirmer et continuer',
    help: '514-987-3000 poste 5050',
    codeSubject: 'Votre code pour changer votre mot de passe',
    noticeSubject: 'Votre mot de passe a été changé',
    throttled: 'Trop de tentatives. Réessayez dans 1 minute(s)',
    questionsLink: 'Configurer ou changer mes questions de sécurité',
    questionsTitle: 'Questions de sécurité',
    saveQuestions: 'Enregistrer mes questions',
    questionsSaved: 'Vos questions de sécurité sont enregistrées.',
    chooseQuestion: 'Choisissez une question, ou écrivez la vôtre.',
    birthCity: 'Dans quelle ville êtes-vous né(e) ?',
    firstPet: 'Quel était le nom de votre premier animal de compagnie ?',
    byQuestions: 'Répondre à mes questions de sécurité',
    questionsStepTitle: 'Vos questions de sécurité',
    setUp: 'Configuré',
    byAuthenticator: "Saisir un code de mon application d'authentification",
    authenticatorLink: "Configurer ou retirer une application d'authentification",
    authenticatorTitle: "Application d'authentification",
    authenticatorStart: "Configurer une application d'authentification",
    authenticatorCode: "Code à 6 chiffres affiché par l'application",
    authenticatorConfirm: 'Confirmer',
    authenticatorWrong: "Ce code n'est pas le bon.",
    authenticatorSaved: "Votre application d'authentification est configurée.",
    authenticatorRemove: "Retirer l'application d'authentification",
    authenticatorRemoved: "L'application d'authentification a été retirée de votre compte.",
    authenticatorStepTitle: "Code de votre application d'authentification",
    authenticatorStepCode: "Code à 6 chiffres de l'application",
    authenticatorAddedSubject: "Une application d'authentification a été ajoutée à votre compte",
    emailLink: 'Ajouter ou changer mon courriel de récupération',
    emailTitle: 'Courriel de récupération',
    newEmail: 'Nouvelle adresse courriel de récupération',
    newEmailAgain: 'Nouvelle adresse, encore une fois',
    currentPassword: 'Mot de passe actuel',
    sendCode: "M'envoyer un code",
    passwordWrong: "Ce mot de passe n'est pas le bon.",
    confirmEmail: 'Confirmer la nouvelle adresse',
    emailSaved: 'Votre adresse courriel de récupération est enregistrée.',
    emailCodeSubject: 'Confirmez votre adresse courriel de récupération',
    emailChangedSubject: 'Votre adresse courriel de récupération a été changée',
    sentTo: 'Configuré : envoyé à',
  },
  en: {
    signinLink: 'Forgot your password?',
    title: 'Forgotten password',
    identifier: 'User ID or email address',
    continue: 'Continue',
    chooseTitle: 'Prove it is you',
    byEmail: 'Receive a code by email',
    byPin: 'Enter my employee number and PIN',
    byIdentity: 'Enter my name, date of birth and social insurance number digits',
    employeeNumber: 'Employee number',
    pin: 'PIN',
    firstName: 'First name',
    lastName: 'Last name',
    dateOfBirth: 'Date of birth',
    sin: 'Last six digits of the social insurance number',
    notMatched: 'These details do not match our records.',
    codeTitle: 'Check your email',
    code: '6-digit code',
    codeWrong: 'This code is not right. Tries left: 4.',
    newPasswordTitle: 'Choose a new password',
    newPassword: 'New password',
    confirm: 'Confirm the new password',
    save: 'Change my password',
    doneTitle: 'Your password has been changed',
    linkConfirm: 'Confirm and continue',
    help: '514-987-3000 poste 5050',
    codeSubject: 'Your code to change your password',
    noticeSubject: 'Your password was changed',
    throttled: 'Too many attempts. Try again in 1 minute(s)',
    questionsLink: 'Set up or change my security questions',
    questionsTitle: 'Security questions',
    saveQuestions: 'Save my questions',
    questionsSaved: 'Your security questions are saved.',
    chooseQuestion: 'Choose a question, or write your own.',
    birthCity: 'In what city were you born?',
    firstPet: 'What was the name of your first pet?',
    byQuestions: 'Answer my security questions',
    questionsStepTitle: 'Your security questions',
    setUp: 'Set up',
    byAuthenticator: 'Enter a code from my authenticator app',
    authenticatorLink: 'Set up or remove an authenticator app',
    authenticatorTitle: 'Authenticator app',
    authenticatorStart: 'Set up an authenticator app',
    authenticatorCode: '6-digit code shown by the app',
    authenticatorConfirm: 'Confirm',
    authenticatorWrong: 'This code is not right.',
    authenticatorSaved: 'Your authenticator app is set up.',
    authenticatorRemove: 'Remove the authenticator app',
    authenticatorRemoved: 'The authenticator app was removed from your account.',
    authenticatorStepTitle: 'Code from your authenticator app',
    authenticatorStepCode: '6-digit code from the app',
    authenticatorAddedSubject: 'An authenticator app was added to your account',
    emailLink: 'Add or change my recovery email',
    emailTitle: 'Recovery email',
    newEmail: 'New recovery email address',
    newEmailAgain: 'New address again',
    currentPassword: 'Current password',
    sendCode: 'Send me a code',
    passwordWrong: 'This password is not right.',
    confirmEmail: 'Confirm the new address',
    emailSaved: 'Your recovery email address is saved.',
    emailCodeSubject: 'Confirm your recovery email address',
    emailChangedSubject: 'Your recovery email address was changed',
    sentTo: 'Set up: sent to',
  },
} as const;

const OLD_PASSWORD = 'Ancien-Mot-De-Passe-2024!';
const NEW_PASSWORD = 'Printemps-Bleu-2026!';

let serial = 0;

function person(lang: Lang, mode: Mode, category: HrRow['category'], withEmail: boolean): HrRow {
  serial += 1;
  const tag = `${Date.now().toString(36)}${serial}`;
  return {
    login: `pw-${lang}-${mode}-${tag}`,
    firstName: 'Hélène',
    lastName: 'Lévesque-Roy',
    dateOfBirth: '1950-02-17',
    employeeNumber: `P${tag.toUpperCase()}`,
    category,
    language: lang,
    pin: '5190',
    // Unique per test: every run's people stay in the same database.
    sinLast6: String(100000 + ((Date.now() + serial * 6841) % 900000)),
    email: withEmail ? `${tag}@travail.example` : '',
  };
}

function heading(page: Page) {
  return main(page).getByRole('heading', { level: 1 });
}

async function identify(page: Page, mode: Mode, lang: Lang, identifier: string): Promise<void> {
  const w = W[lang];
  await open(page, mode, '/signin');
  await main(page).getByRole('link', { name: w.signinLink }).click();
  await settle(page, mode);
  await expect(heading(page)).toHaveText(w.title);
  await main(page).getByLabel(w.identifier, { exact: true }).fill(identifier);
  await main(page).getByRole('button', { name: w.continue }).click();
  await expect(heading(page)).toHaveText(w.chooseTitle);
}

async function choose(page: Page, lang: Lang, method: string): Promise<void> {
  await main(page).getByLabel(method, { exact: true }).check();
  await main(page).getByRole('button', { name: W[lang].continue }).click();
}

async function chooseNewPassword(page: Page, lang: Lang): Promise<void> {
  const w = W[lang];
  await expect(heading(page)).toHaveText(w.newPasswordTitle);
  await expectNoAxeViolations(page, `forgot password, new password (${lang})`);
  await main(page).getByLabel(w.newPassword, { exact: true }).fill(NEW_PASSWORD);
  await main(page).getByLabel(w.confirm, { exact: true }).fill(NEW_PASSWORD);
  await main(page).getByRole('button', { name: w.save }).click();
  await expect(heading(page)).toHaveText(w.doneTitle);
  await expectNoAxeViolations(page, `forgot password, done (${lang})`);
}


/** The key shown by the enrolment page (RFC 4648 base32, spaces allowed), as bytes. */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** What an authenticator app shows at `unixSeconds` (RFC 6238: HMAC-SHA1, 30 s, 6 digits). */
function authenticatorCode(key: Buffer, unixSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

for (const lang of LANGS) {
  const w = W[lang];

  test.describe(`forgot password in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`a retiree with no email, by employee number and PIN (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'retiree', false);
      createActivePerson(p, OLD_PASSWORD);

      await open(page, mode, '/signin');
      await main(page).getByRole('link', { name: w.signinLink }).click();
      await settle(page, mode);
      await expectNoAxeViolations(page, `forgot password, identify (${lang})`);
      await expect(main(page)).toContainText(w.help);
      await main(page).getByLabel(w.identifier, { exact: true }).fill(p.login);
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(heading(page)).toHaveText(w.chooseTitle);
      await expectNoAxeViolations(page, `forgot password, choose (${lang})`);

      await choose(page, lang, w.byPin);
      await expect(main(page).getByLabel(w.employeeNumber, { exact: true })).toBeVisible();
      await expectNoAxeViolations(page, `forgot password, PIN (${lang})`);
      await main(page).getByLabel(w.employeeNumber, { exact: true }).fill(p.employeeNumber);
      await main(page).getByLabel(w.pin, { exact: true }).fill('0000');
      await main(page).getByRole('button', { name: w.continue }).click();
      const summary = main(page).locator('.error-summary');
      await expect(summary).toContainText(w.notMatched);
      await expect(summary).toBeFocused();
      await expectNoAxeViolations(page, `forgot password, refused (${lang})`);

      await main(page).getByLabel(w.pin, { exact: true }).fill(p.pin);
      await main(page).getByRole('button', { name: w.continue }).click();
      await chooseNewPassword(page, lang);
      await signIn(page, mode, lang, p.login, NEW_PASSWORD);
    });

    test(`a retiree by identity attributes (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'retiree', false);
      createActivePerson(p, OLD_PASSWORD);
      await identify(page, mode, lang, p.login);
      await choose(page, lang, w.byIdentity);
      await expect(main(page).getByLabel(w.firstName, { exact: true })).toBeVisible();
      await expectNoAxeViolations(page, `forgot password, identity (${lang})`);
      await main(page).getByLabel(w.firstName, { exact: true }).fill('helene');
      await main(page).getByLabel(w.lastName, { exact: true }).fill('LEVESQUE ROY');
      await main(page).getByLabel(w.dateOfBirth, { exact: true }).fill(p.dateOfBirth);
      await main(page).getByLabel(w.sin, { exact: true }).fill(p.sinLast6);
      await main(page).getByRole('button', { name: w.continue }).click();
      await chooseNewPassword(page, lang);
    });

    test(`staff by the emailed code, and a notice afterwards (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'permanent-staff', true);
      createActivePerson(p, OLD_PASSWORD);
      await identify(page, mode, lang, p.email.toUpperCase());
      await choose(page, lang, w.byEmail);
      await expect(heading(page)).toHaveText(w.codeTitle);
      await expectNoAxeViolations(page, `forgot password, code (${lang})`);
      const mail = await lastMailTo(p.email);
      expect(mail.subject).toContain(w.codeSubject);
      expect(mail.code).toMatch(/^\d{6}$/);

      const wrong = mail.code === '000000' ? '000001' : '000000';
      await main(page).getByLabel(w.code, { exact: true }).fill(wrong);
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.codeWrong);
      await expectNoAxeViolations(page, `forgot password, wrong code (${lang})`);
      await main(page).getByLabel(w.code, { exact: true }).fill(mail.code);
      await main(page).getByRole('button', { name: w.continue }).click();
      await chooseNewPassword(page, lang);
      const notice = await lastMailTo(p.email, mail.link);
      expect(notice.subject).toContain(w.noticeSubject);
      await signIn(page, mode, lang, p.login, NEW_PASSWORD);
    });

    test(`staff by the emailed link, which lands on a confirm button (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'permanent-staff', true);
      createActivePerson(p, OLD_PASSWORD);
      await identify(page, mode, lang, p.login);
      await choose(page, lang, w.byEmail);
      await expect(heading(page)).toHaveText(w.codeTitle);
      const mail = await lastMailTo(p.email);
      expect(mail.link).toContain('/forgot-password/link?token=');
      await open(page, mode, mail.link);
      await expectNoAxeViolations(page, `forgot password, link (${lang})`);
      await main(page).getByRole('button', { name: w.linkConfirm }).click();
      await chooseNewPassword(page, lang);
      // Used: the link now says so.
      await open(page, mode, mail.link);
      await expect(main(page).getByRole('button', { name: w.linkConfirm })).toHaveCount(0);
      await expectNoAxeViolations(page, `forgot password, used link (${lang})`);
    });

    test(`security questions: set up under My account, asked by forgot password, removed by the helpdesk (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'retiree', false);
      createActivePerson(p, OLD_PASSWORD);
      const custom = lang === 'fr' ? 'Mon surnom au camp de vacances ?' : 'My nickname at summer camp?';

      await signIn(page, mode, lang, p.login, OLD_PASSWORD);
      await main(page).getByRole('link', { name: w.questionsLink }).click();
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.questionsTitle);
      await expectNoAxeViolations(page, `security questions (${lang})`);

      // Nothing chosen: the summary names the first question.
      await main(page).getByRole('button', { name: w.saveQuestions }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.chooseQuestion);
      await expectNoAxeViolations(page, `security questions, refused (${lang})`);

      await main(page).locator('#question_0').selectOption('birth-city');
      await main(page).locator('#answer_0').fill('Rimouski');
      await main(page).locator('#question_1').selectOption('first-pet');
      await main(page).locator('#answer_1').fill('Filou');
      await main(page).locator('#question_2').selectOption('custom');
      await main(page).locator('#custom_2').fill(custom);
      await main(page).locator('#answer_2').fill('La Fouine');
      await main(page).getByRole('button', { name: w.saveQuestions }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.questionsSaved);
      await expect(main(page).locator('ol')).toContainText(custom);
      await expectNoAxeViolations(page, `security questions, saved (${lang})`);
      // My account now lists them as set up, with what the institution asks for.
      await open(page, mode, '/account');
      await expect(main(page).locator('dl.methods dd').first()).toHaveText(w.setUp);
      await expectNoAxeViolations(page, `account, recovery methods (${lang})`);

      // Forgot password: the questions, answered whatever the case and accents.
      await identify(page, mode, lang, p.login);
      await choose(page, lang, w.byQuestions);
      await expect(heading(page)).toHaveText(w.questionsStepTitle);
      await expectNoAxeViolations(page, `forgot password, questions (${lang})`);
      await main(page).getByLabel(w.birthCity, { exact: true }).fill('RIMOUSKI');
      await main(page).getByLabel(w.firstPet, { exact: true }).fill('filou');
      await main(page).getByLabel(custom, { exact: true }).fill('la belette');
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.notMatched);
      // Answers are never filled in again: all three, once more.
      await main(page).getByLabel(w.birthCity, { exact: true }).fill('rimouski');
      await main(page).getByLabel(w.firstPet, { exact: true }).fill('Filou');
      await main(page).getByLabel(custom, { exact: true }).fill('la-fouine');
      await main(page).getByRole('button', { name: w.continue }).click();
      await chooseNewPassword(page, lang);

      // The helpdesk removes them: they are no longer the person's questions.
      disableQuestions(p.login, 'forgot the answers');
      await identify(page, mode, lang, p.login);
      await choose(page, lang, w.byQuestions);
      await expect(heading(page)).toHaveText(w.questionsStepTitle);
      await expect(main(page).getByLabel(custom, { exact: true })).toHaveCount(0);
    });

    test(`an authenticator app: set up from its key, used by forgot password, removed (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'permanent-staff', true);
      createActivePerson(p, OLD_PASSWORD);
      await signIn(page, mode, lang, p.login, OLD_PASSWORD);
      await main(page).getByRole('link', { name: w.authenticatorLink }).click();
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.authenticatorTitle);
      await expectNoAxeViolations(page, `authenticator app (${lang})`);
      await main(page).getByRole('button', { name: w.authenticatorStart }).click();
      const secret = main(page).locator('#authenticator-secret');
      await expect(secret).toBeVisible();
      await expect(main(page).locator('.qr svg')).toBeVisible();
      await expectNoAxeViolations(page, `authenticator app, set up (${lang})`);
      const key = base32Decode(await secret.innerText());
      expect(key.length).toBe(20);

      const enrolCode = authenticatorCode(key, Date.now() / 1000);
      const wrong = enrolCode === '000000' ? '000001' : '000000';
      await main(page).getByLabel(w.authenticatorCode, { exact: true }).fill(wrong);
      await main(page).getByRole('button', { name: w.authenticatorConfirm, exact: true }).click();
      const summary = main(page).locator('.error-summary');
      await expect(summary).toContainText(w.authenticatorWrong);
      await expect(summary).toBeFocused();
      await expectNoAxeViolations(page, `authenticator app, wrong code (${lang})`);
      await main(page).getByLabel(w.authenticatorCode, { exact: true }).fill(enrolCode);
      await main(page).getByRole('button', { name: w.authenticatorConfirm, exact: true }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.authenticatorSaved);
      await expectNoAxeViolations(page, `authenticator app, set up done (${lang})`);
      expect((await lastMailTo(p.email)).subject).toContain(w.authenticatorAddedSubject);

      // Forgot password by the app. The enrolment's code is used up; the app's next code
      // (one step of drift is accepted) is not.
      await identify(page, mode, lang, p.login);
      await choose(page, lang, w.byAuthenticator);
      await expect(heading(page)).toHaveText(w.authenticatorStepTitle);
      await expectNoAxeViolations(page, `forgot password, authenticator (${lang})`);
      await main(page).getByLabel(w.authenticatorStepCode, { exact: true }).fill(enrolCode);
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(main(page).locator('.error-summary')).toContainText(w.notMatched);
      await main(page).getByLabel(w.authenticatorStepCode, { exact: true }).fill(authenticatorCode(key, Date.now() / 1000 + 30));
      await main(page).getByRole('button', { name: w.continue }).click();
      await chooseNewPassword(page, lang);

      await signIn(page, mode, lang, p.login, NEW_PASSWORD);
      await main(page).getByRole('link', { name: w.authenticatorLink }).click();
      await settle(page, mode);
      await main(page).getByRole('button', { name: w.authenticatorRemove }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.authenticatorRemoved);
      await expect(main(page).getByRole('button', { name: w.authenticatorStart })).toBeVisible();
    });

    test(`the recovery email: changed with the password and a code sent to the new address (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'permanent-staff', true);
      createActivePerson(p, OLD_PASSWORD);
      const newAddress = `new-${p.email}`;
      await signIn(page, mode, lang, p.login, OLD_PASSWORD);
      await main(page).getByRole('link', { name: w.emailLink }).click();
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.emailTitle);
      await expectNoAxeViolations(page, `recovery email (${lang})`);
      await main(page).getByLabel(w.newEmail, { exact: true }).fill(newAddress);
      await main(page).getByLabel(w.newEmailAgain, { exact: true }).fill(newAddress);
      await main(page).getByLabel(w.currentPassword, { exact: true }).fill('not-my-password');
      await main(page).getByRole('button', { name: w.sendCode }).click();
      const summary = main(page).locator('.error-summary');
      await expect(summary).toContainText(w.passwordWrong);
      await expect(summary).toBeFocused();
      await expectNoAxeViolations(page, `recovery email, refused (${lang})`);
      // The address typed is kept; the confirmation and the password are typed again.
      await expect(main(page).getByLabel(w.newEmail, { exact: true })).toHaveValue(newAddress);
      await main(page).getByLabel(w.newEmailAgain, { exact: true }).fill(newAddress);
      await main(page).getByLabel(w.currentPassword, { exact: true }).fill(OLD_PASSWORD);
      await main(page).getByRole('button', { name: w.sendCode }).click();
      await expect(main(page).getByLabel(w.code, { exact: true })).toBeVisible();
      await expectNoAxeViolations(page, `recovery email, code (${lang})`);
      const mail = await lastMailTo(newAddress);
      expect(mail.subject).toContain(w.emailCodeSubject);
      await main(page).getByLabel(w.code, { exact: true }).fill(mail.code);
      await main(page).getByRole('button', { name: w.confirmEmail }).click();
      await expect(main(page).getByRole('status')).toContainText(w.emailSaved);
      await expect(main(page)).toContainText(newAddress);
      await expectNoAxeViolations(page, `recovery email, saved (${lang})`);
      // My account: codes now go to the new address.
      await open(page, mode, '/account');
      await expect(main(page).locator('dl.methods')).toContainText(`${w.sentTo} ${newAddress}`);
    });

    test(`an unknown account goes through the same pages (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode, 'retiree', false);
      createActivePerson(p, OLD_PASSWORD);
      const pages: string[][] = [];
      for (const identifier of [p.login, `nobody-${p.login}`]) {
        const seen: string[] = [];
        await identify(page, mode, lang, identifier);
        seen.push(await main(page).innerText());
        await choose(page, lang, w.byPin);
        await expect(main(page).getByLabel(w.pin, { exact: true })).toBeVisible();
        seen.push(await main(page).innerText());
        await main(page).getByLabel(w.employeeNumber, { exact: true }).fill(p.employeeNumber);
        await main(page).getByLabel(w.pin, { exact: true }).fill('0000');
        await main(page).getByRole('button', { name: w.continue }).click();
        await expect(main(page).locator('.error-summary')).toContainText(w.notMatched);
        seen.push(await main(page).innerText());
        pages.push(seen);
      }
      expect(pages[1], 'an unknown account must see exactly what a known one sees').toEqual(pages[0]);
    });
  });
}

test('the throttle engages after five wrong answers and releases by itself', async ({ page, mode }) => {
  test.skip(mode === 'nojs', 'one run is enough to wait out a pause');
  test.setTimeout(150_000);
  const lang: Lang = 'en';
  const w = W[lang];
  await setLanguage(page, lang);
  const p = person(lang, mode, 'retiree', false);
  createActivePerson(p, OLD_PASSWORD);
  await identify(page, mode, lang, p.login);
  await choose(page, lang, w.byPin);
  await main(page).getByLabel(w.employeeNumber, { exact: true }).fill(p.employeeNumber);
  const summary = main(page).locator('.error-summary');
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    await main(page).getByLabel(w.pin, { exact: true }).fill('0000');
    // Each answer is awaited: the summary of the attempt before says the same words, and a
    // field filled while the next page loads would be lost. So the page being left is
    // marked, and the answer's page is the one without the mark.
    await page.evaluate(() => {
      document.body.dataset.answered = 'yes';
    });
    await main(page).getByRole('button', { name: w.continue }).click();
    await expect(page.locator('body[data-answered]')).toHaveCount(0);
    await expect(summary).toContainText(attempt < 5 ? w.notMatched : w.throttled);
  }
  await expectNoAxeViolations(page, 'forgot password, paused');
  // The e2e server pauses for one minute (SESAME_THROTTLE_LOCKOUT_MINUTES=1).
  await page.waitForTimeout(61_000);
  await main(page).getByLabel(w.pin, { exact: true }).fill(p.pin);
  await main(page).getByRole('button', { name: w.continue }).click();
  await expect(heading(page)).toHaveText(w.newPasswordTitle);
});
