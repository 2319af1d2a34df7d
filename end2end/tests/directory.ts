/**
 * The e2e suite's other system: the OpenLDAP directory ldap/start.sh serves (Debian's
 * slapd). Accounts are added with Debian's ldap-utils as its administrator would, and a
 * password is checked with a real bind.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const URL = 'ldap://127.0.0.1:3389';
const SERVICE_DN = 'cn=sesame,dc=annuaire,dc=example';
const SERVICE_PASSWORD = 'Service-Annuaire-2026';

export function accountDn(uid: string): string {
  return `uid=${uid},ou=people,dc=annuaire,dc=example`;
}

/** Adds an account with this password to the directory. */
export function addDirectoryAccount(uid: string, password: string): void {
  const ldif = [
    `dn: ${accountDn(uid)}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${uid}`,
    'sn: Bouchard',
    `userPassword: ${password}`,
    '',
  ].join('\n');
  execFileSync('ldapadd', ['-x', '-H', URL, '-D', SERVICE_DN, '-w', SERVICE_PASSWORD], {
    input: ldif,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Whether the directory accepts this password for the account (a simple bind). */
export function directoryAccepts(uid: string, password: string): boolean {
  const bind = spawnSync('ldapwhoami', ['-x', '-H', URL, '-D', accountDn(uid), '-w', password], { stdio: 'pipe' });
  return bind.status === 0;
}
