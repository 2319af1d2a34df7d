/**
 * What the operator and the mailbox do around a browser journey: import people and print
 * their letters with the real `sesame admin` commands (against the e2e server's database),
 * and read the mail the server wrote as `.eml` files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const VAR = path.resolve('..', 'var', 'e2e');
const SESAME = path.resolve('..', 'target', 'release', 'sesame');

/** The same settings the e2e server runs with (playwright.config.ts). */
function sesameEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SESAME_DATABASE_URL: `sqlite:${path.join(VAR, 'sesame.db')}`,
    SESAME_MAIL_DIR: path.join(VAR, 'mail'),
    SESAME_SECRET_KEY_FILE: path.join(VAR, 'secret.key'),
    SESAME_PUBLIC_URL: 'http://127.0.0.1:3100',
    SESAME_LOG: 'warn',
  };
}

export type Category = 'permanent-staff' | 'temporary-staff' | 'retiree' | 'student' | 'external';

export interface NewPerson {
  login: string;
  firstName: string;
  lastName: string;
  category: Category;
  language: 'fr' | 'en';
}

export interface HrRow extends NewPerson {
  dateOfBirth: string;
  employeeNumber: string;
  pin: string;
  sinLast6: string;
  email: string;
}

/** Imports people from an HR file, as the operator does. */
export function importPeople(rows: HrRow[], name: string): void {
  const csv = path.join(VAR, `${name}.csv`);
  const lines = rows.map((r) =>
    [r.login, r.firstName, r.lastName, r.dateOfBirth, r.employeeNumber, r.category, r.language, r.pin, r.sinLast6, r.email].join(','),
  );
  fs.writeFileSync(
    csv,
    'login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n' + lines.join('\n') + '\n',
  );
  execFileSync(SESAME, ['admin', 'import', csv], { env: sesameEnv(), stdio: 'pipe' });
}

/**
 * An active account with a password (`sesame admin create-person`, the password on
 * standard input), then the HR file's facts about it (employee number, PIN, SIN...).
 */
export function createActivePerson(row: HrRow, password: string): void {
  const args = ['admin', 'create-person', '--login', row.login, '--first-name', row.firstName];
  args.push('--last-name', row.lastName, '--category', row.category, '--language', row.language);
  if (row.email) {
    args.push('--email', row.email);
  }
  execFileSync(SESAME, args, { env: sesameEnv(), input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  importPeople([row], row.login);
}

/** An issuer's `sesame admin invite` (seed 003); answers the "Sign up" link mailed. */
export async function invite(email: string, lang: 'fr' | 'en', issuer: string): Promise<string> {
  execFileSync(SESAME, ['admin', 'invite', '--email', email, '--lang', lang, '--issuer', issuer], {
    env: sesameEnv(),
    stdio: 'pipe',
  });
  const link = (await lastMailTo(email)).text.match(/https?:\/\/\S+\/signup\?invitation=[A-Za-z0-9_-]+(?:&lang=[a-z]+)?/)?.[0];
  if (!link) {
    throw new Error(`no invitation link mailed to ${email}`);
  }
  return link;
}

/** Whether any mail was written for `to` (waits a little for the outbox worker first). */
export async function anyMailTo(to: string): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const dir = path.join(VAR, 'mail');
  return (
    fs.existsSync(dir) &&
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.eml'))
      .some((name) => fs.readFileSync(path.join(dir, name), 'utf8').toLowerCase().includes(`to: ${to.toLowerCase()}`))
  );
}

/** `sesame admin grant-role LOGIN helpdesk|admin`: makes the person a helpdesk agent. */
export function grantRole(login: string, role: 'helpdesk' | 'admin'): void {
  execFileSync(SESAME, ['admin', 'grant-role', login, role], { env: sesameEnv(), stdio: 'pipe' });
}

/** The helpdesk's `sesame admin disable-questions` (seed 000). */
export function disableQuestions(login: string, reason: string): void {
  execFileSync(SESAME, ['admin', 'disable-questions', login, '--reason', reason], { env: sesameEnv(), stdio: 'pipe' });
}

/**
 * Imports the person from a one-row HR file, prints their letter, and answers the
 * provisional password read from the letter.
 */
export function importWithLetter(person: NewPerson): string {
  const csv = path.join(VAR, `${person.login}.csv`);
  fs.writeFileSync(
    csv,
    'login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n' +
      `${person.login},${person.firstName},${person.lastName},1980-04-12,E${Date.now() % 1_000_000},${person.category},${person.language},,,\n`,
  );
  execFileSync(SESAME, ['admin', 'import', csv], { env: sesameEnv(), stdio: 'pipe' });
  const letters = path.join(VAR, `${person.login}-letter.html`);
  execFileSync(SESAME, ['admin', 'letters', '--login', person.login, '--out', letters], {
    env: sesameEnv(),
    stdio: 'pipe',
  });
  const html = fs.readFileSync(letters, 'utf8');
  const password = html.match(/[2-9A-Z]{4}(?:-[2-9A-Z]{4}){3}/)?.[0];
  if (!password || !html.includes(person.login)) {
    throw new Error(`no provisional password for ${person.login} in ${letters}`);
  }
  return password;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** The activation link and the 6-digit code in the text. */
  link: string;
  code: string;
}

/**
 * The newest `.eml` sent to `to`, waiting for the outbox worker if needed; with
 * `notLink`, waits for a newer mail than the one carrying that link.
 */
export async function lastMailTo(to: string, notLink?: string): Promise<Mail> {
  const dir = path.join(VAR, 'mail');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mails = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((name) => name.endsWith('.eml'))
          .map((name) => path.join(dir, name))
          .map((file) => ({ file, at: fs.statSync(file).mtimeMs }))
          .sort((a, b) => b.at - a.at)
          .map((m) => parseEml(fs.readFileSync(m.file, 'utf8')))
          .filter((mail) => mail.to.toLowerCase().includes(to.toLowerCase()))
      : [];
    if (mails.length > 0 && (notLink === undefined || mails[0].link !== notLink)) {
      return mails[0];
    }
    if (Date.now() > deadline) {
      throw new Error(`no mail to ${to} in ${dir}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Reads the headers and the text/plain part of a message (quoted-printable or base64). */
function parseEml(raw: string): Mail {
  const eml = raw.replace(/\r\n/g, '\n');
  const headerEnd = eml.indexOf('\n\n');
  const headers = unfold(eml.slice(0, headerEnd));
  const to = header(headers, 'To');
  const subject = decodeWords(header(headers, 'Subject'));
  const text = textPart(eml);
  const link = text.match(/https?:\/\/\S+\/(?:activate|forgot-password|signup)\/link\?token=[A-Za-z0-9_-]+/)?.[0] ?? '';
  const code = text.match(/(?:^|\s)(\d{6})(?:\s|$)/m)?.[1] ?? '';
  return { to, subject, text, link, code };
}

function unfold(headers: string): string {
  return headers.replace(/\n[ \t]+/g, ' ');
}

function header(headers: string, name: string): string {
  const line = headers.split('\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

/** RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, kind: string, data: string) =>
      kind.toLowerCase() === 'b'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function textPart(eml: string): string {
  const parts = eml.split(/\n--[^\n]+\n/);
  for (const part of parts) {
    const end = part.indexOf('\n\n');
    if (end < 0) continue;
    const headers = unfold(part.slice(0, end));
    if (!/content-type:\s*text\/plain/i.test(headers)) continue;
    const body = part.slice(end + 2);
    const encoding = header(headers, 'Content-Transfer-Encoding').toLowerCase();
    if (encoding === 'base64') {
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    if (encoding === 'quoted-printable') {
      return decodeQuotedPrintable(body);
    }
    return body;
  }
  throw new Error('no text/plain part');
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
