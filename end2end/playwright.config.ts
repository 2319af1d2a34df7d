import path from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * Sésame's end-to-end suite: Debian's Chromium, every spec twice — once with JavaScript
 * (server-rendered pages whose islands run in the browser) and once without (plain HTML
 * forms, 303 redirects). One worker: the machine has 2 cores and the server one SQLite database.
 *
 * Run from this directory after a release build (`cargo leptos build --release`), or let
 * `scripts/test.sh` at the top of the repository build and run everything.
 */

// The site's location lives in Leptos.toml only; scripts/leptos-env exports it.
const siteRoot = process.env.LEPTOS_SITE_ROOT;
if (!siteRoot) {
  throw new Error('LEPTOS_SITE_ROOT is not set: run `eval "$(../scripts/leptos-env)"` first (scripts/test.sh does)');
}

const PORT = 3100;
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: './tests',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],

  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    headless: true,
    // A French-speaking browser: the portal's default language is then French, so a test
    // that reaches English did so through `?lang=` or the language cookie.
    locale: 'fr-CA',
    timezoneId: 'America/Montreal',
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Never a downloaded browser build: the registry-installed Debian package.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },

  projects: [
    { name: 'js', use: { javaScriptEnabled: true } },
    { name: 'nojs', use: { javaScriptEnabled: false } },
  ],

  // Playwright starts the web server *before* globalSetup runs, so the fresh state
  // (empty database, mailbox and key) is made by the server's own command line.
  webServer: [
    // The other system people link accounts in (account.spec.ts): Debian's slapd with a
    // small directory, fresh at every run, at the address sesame.e2e.toml names.
    {
      command: 'bash ldap/start.sh ../var/e2e-ldap 3389',
      cwd: '.',
      port: 3389,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      command:
        "sh -c 'rm -rf ../var/e2e && mkdir -p ../var/e2e/mail && exec ../target/release/sesame serve --demo --addr 127.0.0.1:3100'",
      cwd: '.',
      url: `${BASE_URL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SESAME_CONFIG: 'sesame.e2e.toml',
        // One access line per request would drown the test report: warnings and errors only.
        SESAME_LOG: 'info,sqlx=warn,sesame::access=warn',
        SESAME_DATABASE_URL: 'sqlite:../var/e2e/sesame.db',
        SESAME_MAIL_DIR: '../var/e2e/mail',
        SESAME_SECRET_KEY_FILE: '../var/e2e/secret.key',
        SESAME_PUBLIC_URL: BASE_URL,
        // Every test signs in from 127.0.0.1: keep the per-address limit out of the way…
        SESAME_THROTTLE_SIGNIN_PER_ADDRESS: '10000',
        // …and pin the per-account limit the throttle test counts on (the default).
        SESAME_THROTTLE_SIGNIN_PER_ACCOUNT: '5',
        SESAME_THROTTLE_RECOVERY_PER_ADDRESS: '10000',
        // Pauses last a minute, so a test can wait one out (password.spec.ts).
        SESAME_THROTTLE_LOCKOUT_MINUTES: '1',
        LEPTOS_SITE_ROOT: path.resolve('..', siteRoot),
        // Every test signs up from 127.0.0.1 too.
        SESAME_SIGNUP_PER_ADDRESS_PER_HOUR: '10000',
        SESAME_SIGNUP_UNSOLVED_PER_ADDRESS_PER_HOUR: '10000',
      },
    },
    // The same portal after the institution published new versions of its terms of use
    // and privacy policy (signup.spec.ts): same database and key, started once the first
    // instance has created and migrated the database.
    {
      command: `sh -c 'until curl -sf ${BASE_URL}/healthz >/dev/null; do sleep 0.2; done; exec ../target/release/sesame serve --addr 127.0.0.1:${PORT + 1}'`,
      cwd: '.',
      url: `http://127.0.0.1:${PORT + 1}/healthz`,
      reuseExistingServer: false,
      timeout: 90_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SESAME_CONFIG: 'sesame.e2e.toml',
        // One access line per request would drown the test report: warnings and errors only.
        SESAME_LOG: 'info,sqlx=warn,sesame::access=warn',
        SESAME_DATABASE_URL: 'sqlite:../var/e2e/sesame.db',
        SESAME_MAIL_DIR: '../var/e2e/mail',
        SESAME_SECRET_KEY_FILE: '../var/e2e/secret.key',
        SESAME_PUBLIC_URL: `http://127.0.0.1:${PORT + 1}`,
        SESAME_THROTTLE_SIGNIN_PER_ADDRESS: '10000',
        SESAME_SIGNUP_TERMS_VERSION: '2027-01',
        SESAME_SIGNUP_PRIVACY_VERSION: '2027-01',
        LEPTOS_SITE_ROOT: path.resolve('..', siteRoot),
      },
    },
  ],
});
