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
    await main(page).getByRole('button', { name: w.continue }).click();
    await expect(summary).toContainText(attempt < 5 ? w.notMatched : w.throttled);
  }
  await expectNoAxeViolations(page, 'forgot password, paused');
  // The e2e server pauses for one minute (SESAME_THROTTLE_LOCKOUT_MINUTES=1).
  await page.waitForTimeout(61_000);
  await main(page).getByLabel(w.pin, { exact: true }).fill(p.pin);
  await main(page).getByRole('button', { name: w.continue }).click();
  await expect(heading(page)).toHaveText(w.newPasswordTitle);
});
