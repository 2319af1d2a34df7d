/**
 * Forgot username (seed 000), as a retired employee does it: the employee number and PIN,
 * or "identify another way" with names, date of birth and the SIN's last six digits. The
 * person is imported by the operator's real `sesame admin import`. French and English,
 * with and without JavaScript, an axe scan of every page.
 */
import { LANGS, type Lang, type Mode, expect, expectNoAxeViolations, main, open, setLanguage, settle, test } from './support';
import { importPeople, lastMailTo } from './operator';

const W = {
  fr: {
    signinLink: "Code d'utilisateur oublié ?",
    title: "Code d'utilisateur oublié",
    employeeNumber: "Matricule d'employé",
    pin: 'NIP',
    submit: 'Afficher mon code d\'utilisateur',
    notFound: 'Ces renseignements ne nous permettent pas de vous identifier.',
    found: "Votre code d'utilisateur est :",
    otherWay: 'Identifiez-vous autrement',
    firstName: 'Prénom',
    lastName: 'Nom',
    dateOfBirth: 'Date de naissance',
    sin: "Six derniers chiffres du numéro d'assurance sociale",
    mailSubject: "Votre code d'utilisateur",
  },
  en: {
    signinLink: 'Forgot your user ID?',
    title: 'Forgotten user ID',
    employeeNumber: 'Employee number',
    pin: 'PIN',
    submit: 'Show my user ID',
    notFound: 'We cannot identify you with these details.',
    found: 'Your user ID is:',
    otherWay: 'Identify yourself another way',
    firstName: 'First name',
    lastName: 'Last name',
    dateOfBirth: 'Date of birth',
    sin: 'Last six digits of the social insurance number',
    mailSubject: 'Your user ID',
  },
} as const;

let serial = 0;

function person(lang: Lang, mode: Mode) {
  serial += 1;
  const tag = `${Date.now().toString(36)}${serial}`;
  return {
    login: `ret-${lang}-${mode}-${tag}`,
    firstName: 'Hélène',
    lastName: 'Lévesque-Roy',
    dateOfBirth: '1951-04-12',
    employeeNumber: `E${tag.toUpperCase()}`,
    category: 'retiree' as const,
    language: lang,
    pin: '4827',
    // Unique per test: every run's people stay in the same database.
    sinLast6: String(100000 + ((Date.now() + serial * 7919) % 900000)),
    email: `${tag}@retraite.example`,
  };
}

for (const lang of LANGS) {
  const w = W[lang];

  test.describe(`forgot username in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`by employee number and PIN, then by identity attributes (${lang})`, async ({ page, mode }) => {
      const p = person(lang, mode);
      importPeople([p], p.login);

      await open(page, mode, '/signin');
      await main(page).getByRole('link', { name: w.signinLink }).click();
      await settle(page, mode);
      await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(w.title);
      await expectNoAxeViolations(page, `forgot username, PIN (${lang})`);

      // A wrong PIN: the same answer as an unknown employee number.
      await main(page).getByLabel(w.employeeNumber, { exact: true }).fill(p.employeeNumber);
      await main(page).getByLabel(w.pin, { exact: true }).fill('0000');
      await main(page).getByRole('button', { name: w.submit }).click();
      const summary = main(page).locator('.error-summary');
      await expect(summary).toContainText(w.notFound);
      await expect(summary).toBeFocused();
      await expectNoAxeViolations(page, `forgot username, refused (${lang})`);
      const wrongAnswer = (await summary.textContent()) ?? "";
      await main(page).getByLabel(w.employeeNumber, { exact: true }).fill('E-NOBODY');
      await main(page).getByLabel(w.pin, { exact: true }).fill('0000');
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(summary).toHaveText(wrongAnswer);

      // The right PIN: the user ID is shown, and mailed.
      await main(page).getByLabel(w.employeeNumber, { exact: true }).fill(p.employeeNumber);
      await main(page).getByLabel(w.pin, { exact: true }).fill(p.pin);
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(main(page).getByRole('status')).toContainText(w.found);
      await expect(main(page).locator('.found-login')).toHaveText(p.login);
      await expectNoAxeViolations(page, `forgot username, found (${lang})`);
      const mail = await lastMailTo(p.email);
      expect(mail.subject).toContain(w.mailSubject);
      expect(mail.text).toContain(p.login);

      // Identify another way: names (any case, no accents), date of birth, SIN digits.
      await open(page, mode, '/forgot-username');
      await main(page).getByRole('link', { name: w.otherWay }).click();
      await settle(page, mode);
      await expect(main(page).getByLabel(w.firstName, { exact: true })).toBeVisible();
      await expectNoAxeViolations(page, `forgot username, identity (${lang})`);
      await main(page).getByLabel(w.firstName, { exact: true }).fill('helene');
      await main(page).getByLabel(w.lastName, { exact: true }).fill('LEVESQUE ROY');
      await main(page).getByLabel(w.dateOfBirth, { exact: true }).fill(p.dateOfBirth);
      await main(page).getByLabel(w.sin, { exact: true }).fill(p.sinLast6);
      await main(page).getByRole('button', { name: w.submit }).click();
      await expect(main(page).locator('.found-login')).toHaveText(p.login);
    });
  });
}
