/**
 * The helpdesk console (issue 6, seed 000): an agent, made with the real CLI
 * (`sesame admin create-person`, then `grant-role ... helpdesk`), signs in, finds a
 * retiree who set up security questions, and disables them with a reason (refused
 * without one). The retiree then goes through forgot password: their questions are gone
 * and the page shows the helpdesk path. Someone without the role gets a 403 page; the
 * agent cannot act on their own account. French and English, with and without
 * JavaScript, an axe scan of every console page.
 */
import type { Page } from '@playwright/test';
import { LANGS, type Lang, type Mode, expect, expectNoAxeViolations, main, open, setLanguage, settle, signIn, test } from './support';
import { type HrRow, createActivePerson, grantRole, importPeople, invite } from './operator';

const W = {
  fr: {
    consoleLink: "Console d'assistance",
    title: "Console du service d'assistance",
    forbidden: 'Accès refusé',
    search: 'Rechercher une personne',
    searchButton: 'Rechercher',
    personTitle: (name: string) => `Dossier de ${name}`,
    setUp: 'Configuré',
    disable: 'Désactiver les questions de sécurité',
    reasonRequired: 'Indiquez la raison de cette action.',
    disabled: 'Les questions de sécurité ont été désactivées.',
    questionsEvent: 'Questions de sécurité',
    questionsDisabled: 'Désactivation',
    selfNotice: "C'est votre propre compte : vous ne pouvez pas agir dessus depuis la console.",
    questionsLink: 'Configurer ou changer mes questions de sécurité',
    saveQuestions: 'Enregistrer mes questions',
    questionsSaved: 'Vos questions de sécurité sont enregistrées.',
    signinLink: 'Mot de passe oublié ?',
    identifier: "Code d'utilisateur ou adresse courriel",
    continue: 'Continuer',
    chooseTitle: "Prouvez que c'est vous",
    byQuestions: 'Répondre à mes questions de sécurité',
    questionsStepTitle: 'Vos questions de sécurité',
    help: '514-987-3000 poste 5050',
    custom: 'Mon surnom au camp de vacances ?',
    issueLetter: 'Émettre de nouveaux identifiants provisoires',
    letterTitle: 'Lettre à imprimer',
    print: 'Imprimer la lettre',
    letterGone: 'Cette lettre a déjà été affichée',
    manage: "Gérer l'invitation",
    invitationTitle: (email: string) => `Invitation de ${email}`,
    revoke: "Révoquer l'invitation",
    revoked: "L'invitation a été révoquée.",
  },
  en: {
    consoleLink: 'Helpdesk console',
    title: 'Helpdesk console',
    forbidden: 'Access denied',
    search: 'Find a person',
    searchButton: 'Search',
    personTitle: (name: string) => `Account of ${name}`,
    setUp: 'Set up',
    disable: 'Disable the security questions',
    reasonRequired: 'Give the reason for this action.',
    disabled: 'The security questions were disabled.',
    questionsEvent: 'Security questions',
    questionsDisabled: 'Disabled',
    selfNotice: 'This is your own account: you cannot act on it from the console.',
    questionsLink: 'Set up or change my security questions',
    saveQuestions: 'Save my questions',
    questionsSaved: 'Your security questions are saved.',
    signinLink: 'Forgot your password?',
    identifier: 'User ID or email address',
    continue: 'Continue',
    chooseTitle: 'Prove it is you',
    byQuestions: 'Answer my security questions',
    questionsStepTitle: 'Your security questions',
    help: '514-987-3000 poste 5050',
    custom: 'My nickname at summer camp?',
    issueLetter: 'Issue new provisional credentials',
    letterTitle: 'Letter to print',
    print: 'Print the letter',
    letterGone: 'This letter was already shown',
    manage: 'Manage the invitation',
    invitationTitle: (email: string) => `Invitation of ${email}`,
    revoke: 'Revoke the invitation',
    revoked: 'The invitation was revoked.',
  },
} as const;

const PASSWORD = 'Ancien-Mot-De-Passe-2024!';

let serial = 0;

function row(lang: Lang, mode: Mode, role: string, category: HrRow['category']): HrRow {
  serial += 1;
  const tag = `${Date.now().toString(36)}${serial}`;
  return {
    login: `hd-${role}-${lang}-${mode}-${tag}`,
    firstName: role === 'agent' ? 'Agathe' : 'Hélène',
    lastName: role === 'agent' ? 'Desjardins' : `Lévesque-${tag}`,
    dateOfBirth: '1950-02-17',
    employeeNumber: `H${tag.toUpperCase()}`,
    category,
    language: lang,
    pin: '5190',
    sinLast6: String(100000 + ((Date.now() + serial * 7919) % 900000)),
    email: '',
  };
}

function heading(page: Page) {
  return main(page).getByRole('heading', { level: 1 });
}

/** Starts over as a signed-out visitor in `lang`. */
async function signOut(page: Page, lang: Lang): Promise<void> {
  await page.context().clearCookies();
  await setLanguage(page, lang);
}

/** The retiree sets up three security questions under "My account". */
async function setUpQuestions(page: Page, mode: Mode, lang: Lang, p: HrRow): Promise<void> {
  const w = W[lang];
  await signIn(page, mode, lang, p.login, PASSWORD);
  await main(page).getByRole('link', { name: w.questionsLink }).click();
  await settle(page, mode);
  await main(page).locator('#question_0').selectOption('birth-city');
  await main(page).locator('#answer_0').fill('Rimouski');
  await main(page).locator('#question_1').selectOption('first-pet');
  await main(page).locator('#answer_1').fill('Filou');
  await main(page).locator('#question_2').selectOption('custom');
  await main(page).locator('#custom_2').fill(w.custom);
  await main(page).locator('#answer_2').fill('La Fouine');
  await main(page).getByRole('button', { name: w.saveQuestions }).click();
  await expect(main(page).getByRole('status')).toHaveText(w.questionsSaved);
}

/** Searches the console and opens the one result. */
async function find(page: Page, mode: Mode, lang: Lang, query: string, login: string): Promise<void> {
  const w = W[lang];
  await main(page).getByLabel(w.search, { exact: true }).fill(query);
  await main(page).getByRole('button', { name: w.searchButton, exact: true }).click();
  await settle(page, mode);
  await expect(main(page).getByRole('table')).toContainText(login);
  await expectNoAxeViolations(page, `helpdesk, results (${lang})`);
  await main(page).getByRole('link', { name: login, exact: true }).click();
  await settle(page, mode);
}

for (const lang of LANGS) {
  const w = W[lang];

  test.describe(`helpdesk console in ${lang}`, () => {
    test.beforeEach(async ({ page }) => {
      await setLanguage(page, lang);
    });

    test(`an agent disables a retiree's security questions; forgot password then shows the helpdesk path (${lang})`, async ({ page, mode }) => {
      const p = row(lang, mode, 'retiree', 'retiree');
      createActivePerson(p, PASSWORD);
      const agent = row(lang, mode, 'agent', 'permanent-staff');
      createActivePerson(agent, PASSWORD);
      grantRole(agent.login, 'helpdesk');

      // The retiree sets up questions; without the role, the console is refused (403).
      await setUpQuestions(page, mode, lang, p);
      const refused = await page.goto('/helpdesk');
      expect(refused?.status()).toBe(403);
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.forbidden);
      await expectNoAxeViolations(page, `helpdesk, refused (${lang})`);

      // Signed out: sent to sign-in.
      await signOut(page, lang);
      await page.goto('/helpdesk');
      await expect(page).toHaveURL(/\/signin$/);

      // The agent: the account menu links to the console.
      await signIn(page, mode, lang, agent.login, PASSWORD);
      await page.locator('.account-menu summary').click();
      await page.getByRole('link', { name: w.consoleLink, exact: true }).click();
      await settle(page, mode);
      await expect(page).toHaveURL(/\/helpdesk$/);
      await expect(heading(page)).toHaveText(w.title);
      await expectNoAxeViolations(page, `helpdesk, search (${lang})`);

      // Found by employee number; the questions show as set up, never their answers.
      await find(page, mode, lang, p.employeeNumber.toLowerCase(), p.login);
      const name = `${p.firstName} ${p.lastName}`;
      await expect(heading(page)).toHaveText(w.personTitle(name));
      await expect(main(page).locator('dl.methods dd').first()).toHaveText(w.setUp);
      await expect(main(page)).not.toContainText('Rimouski');
      await expectNoAxeViolations(page, `helpdesk, person (${lang})`);

      // No reason: refused, the summary names the field and takes focus.
      await main(page).getByRole('button', { name: w.disable, exact: true }).click();
      const summary = main(page).locator('.error-summary');
      await expect(summary).toContainText(w.reasonRequired);
      await expect(summary).toBeFocused();
      await expectNoAxeViolations(page, `helpdesk, reason required (${lang})`);

      await main(page).locator('#questions_reason').fill('Forgot the answers; identity checked by phone');
      await main(page).getByRole('button', { name: w.disable, exact: true }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.disabled);
      await expect(main(page).getByRole('button', { name: w.disable, exact: true })).toHaveCount(0);
      // The trail names the event in the page's language, not by its stored code.
      await expect(main(page).locator('table')).toContainText(w.questionsEvent);
      await expect(main(page).locator('table')).not.toContainText('security_questions');
      // ...and its outcome too: no stored code is shown as such.
      await expect(main(page).locator('table')).toContainText(w.questionsDisabled);
      await expect(main(page).locator('table code')).toHaveCount(0);
      await expectNoAxeViolations(page, `helpdesk, questions disabled (${lang})`);

      // Their own account: shown, but no action.
      await open(page, mode, '/helpdesk');
      await find(page, mode, lang, agent.login, agent.login);
      await expect(main(page)).toContainText(w.selfNotice);
      await expect(main(page).locator('form')).toHaveCount(0);
      await expectNoAxeViolations(page, `helpdesk, own account (${lang})`);

      // The retiree: forgot password no longer asks their questions, and points to the
      // helpdesk.
      await signOut(page, lang);
      await open(page, mode, '/signin');
      await main(page).getByRole('link', { name: w.signinLink }).click();
      await settle(page, mode);
      await main(page).getByLabel(w.identifier, { exact: true }).fill(p.login);
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(heading(page)).toHaveText(w.chooseTitle);
      await expect(main(page)).toContainText(w.help);
      await main(page).getByLabel(w.byQuestions, { exact: true }).check();
      await main(page).getByRole('button', { name: w.continue }).click();
      await expect(heading(page)).toHaveText(w.questionsStepTitle);
      await expect(main(page).getByLabel(w.custom, { exact: true })).toHaveCount(0);
      await expect(main(page)).toContainText(w.help);
    });

    test(`an agent prints a new letter once, and revokes an invitation (${lang})`, async ({ page, mode }) => {
      const agent = row(lang, mode, 'agent', 'permanent-staff');
      createActivePerson(agent, PASSWORD);
      grantRole(agent.login, 'admin');
      const pending = row(lang, mode, 'pending', 'temporary-staff');
      importPeople([pending], pending.login);
      const email = `${pending.login}@invite.example`;
      await invite(email, lang, 'Research office');

      await signIn(page, mode, lang, agent.login, PASSWORD);
      await open(page, mode, '/helpdesk');
      await find(page, mode, lang, pending.login, pending.login);
      await main(page).locator('#letter_reason').fill('Letter lost in the mail; identity checked in person');
      await main(page).getByRole('button', { name: w.issueLetter, exact: true }).click();
      await settle(page, mode);
      // The letter has its own heading, as printed: the page's is the first.
      await expect(heading(page).first()).toHaveText(w.letterTitle);
      await expect(main(page).locator('.helpdesk-letter dd.password')).toHaveText(/^[2-9A-Z]{4}(?:-[2-9A-Z]{4}){3}$/);
      await expect(main(page).locator('.helpdesk-letter')).toContainText(pending.login);
      await expect(main(page).getByRole('button', { name: w.print })).toHaveCount(mode === 'js' ? 1 : 0);
      await expectNoAxeViolations(page, `helpdesk, letter (${lang})`);
      // Shown once: loaded again, the password is gone.
      await page.reload();
      await settle(page, mode);
      await expect(main(page)).toContainText(w.letterGone);
      await expect(main(page).locator('.helpdesk-letter')).toHaveCount(0);
      await expectNoAxeViolations(page, `helpdesk, letter shown (${lang})`);

      // An invited address: found by its invitations, revoked with a reason.
      await open(page, mode, '/helpdesk');
      await main(page).getByLabel(w.search, { exact: true }).fill(email);
      await main(page).getByRole('button', { name: w.searchButton, exact: true }).click();
      await settle(page, mode);
      await expect(main(page).getByRole('table')).toContainText(email);
      await main(page).getByRole('link', { name: w.manage, exact: true }).click();
      await settle(page, mode);
      await expect(heading(page)).toHaveText(w.invitationTitle(email));
      await expectNoAxeViolations(page, `helpdesk, invitation (${lang})`);
      await main(page).locator('#revoke_reason').fill('Sent to the wrong address');
      await main(page).getByRole('button', { name: w.revoke, exact: true }).click();
      await expect(main(page).getByRole('status')).toHaveText(w.revoked);
      await expect(main(page).getByRole('button', { name: w.revoke, exact: true })).toHaveCount(0);
      await expectNoAxeViolations(page, `helpdesk, invitation revoked (${lang})`);
    });
  });
}
