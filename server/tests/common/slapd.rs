//! A real LDAP directory for the linked accounts tests: Debian's OpenLDAP `slapd`
//! (`apt-get install slapd`, see scripts/install-tools.sh) started in a temporary folder
//! with its own configuration (mdb database, the core, cosine and inetorgperson schemas),
//! on a free port of 127.0.0.1, seeded with two people through ldap3 itself, and killed
//! when dropped. Without slapd the tests fail, saying so; they are skipped only when
//! `SESAME_TEST_SKIP_LDAP=1` asks for it explicitly.
#![allow(dead_code)]

use std::{
    collections::HashSet,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use ldap3::{Ldap, LdapConnAsync};

const SLAPD: &str = "/usr/sbin/slapd";
pub const BASE_DN: &str = "dc=example,dc=org";
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=org";
/// The service account that may set passwords (the directory's root DN).
pub const SERVICE_DN: &str = "cn=admin,dc=example,dc=org";
pub const SERVICE_PASSWORD: &str = "Service-Secret-2026";
/// The people in the directory: uid and password.
pub const ALICE: (&str, &str) = ("alice", "Alice-Annuaire-2024");
pub const BOB: (&str, &str) = ("bob", "Bob-Annuaire-2024");
/// The DN template of the people above.
pub const USER_DN: &str = "uid={account},ou=people,dc=example,dc=org";

/// An entry to add: its DN and attributes.
type Entry = (String, Vec<(&'static str, HashSet<&'static str>)>);

pub struct Slapd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

impl Slapd {
    /// A running, seeded directory; `None` only when `SESAME_TEST_SKIP_LDAP=1`.
    pub async fn start() -> Option<Slapd> {
        if std::env::var("SESAME_TEST_SKIP_LDAP").is_ok_and(|v| v == "1") {
            eprintln!("SESAME_TEST_SKIP_LDAP=1: LDAP test skipped");
            return None;
        }
        assert!(
            Path::new(SLAPD).exists(),
            "{SLAPD} is missing: install it (scripts/install-tools.sh, apt package slapd), \
             or set SESAME_TEST_SKIP_LDAP=1 to skip the LDAP tests"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("data")).expect("data folder");
        std::fs::write(dir.path().join("slapd.conf"), config(dir.path())).expect("slapd.conf");
        let mut slapd = Slapd {
            child: None,
            dir,
            port: free_port(),
        };
        slapd.run().await;
        slapd.seed().await;
        Some(slapd)
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn user_dn(uid: &str) -> String {
        USER_DN.replace("{account}", uid)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("slapd.log")
    }

    /// Starts slapd in the foreground (`-d 0`: it stays our child) and waits for binds.
    async fn run(&mut self) {
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(self.dir.path().join("slapd.conf"))
            .arg("-h")
            .arg(format!("{}/", self.url()))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {SLAPD}: {e}"));
        self.child = Some(child);
        for _ in 0..100 {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "slapd exited ({status}): {}",
                    std::fs::read_to_string(self.log_path()).unwrap_or_default()
                );
            }
            if self.can_bind(SERVICE_DN, SERVICE_PASSWORD).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "slapd did not answer on port {}: {}",
            self.port,
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        );
    }

    /// Kills slapd (the data stays): the directory is down.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the same data.
    pub async fn restart(&mut self) {
        self.stop();
        self.run().await;
    }

    async fn connect(&self) -> Option<Ldap> {
        let (conn, ldap) = LdapConnAsync::new(&self.url()).await.ok()?;
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        Some(ldap)
    }

    /// Whether a simple bind with this DN and password succeeds.
    pub async fn can_bind(&self, dn: &str, password: &str) -> bool {
        let Some(mut ldap) = self.connect().await else {
            return false;
        };
        let ok = ldap
            .simple_bind(dn, password)
            .await
            .is_ok_and(|result| result.rc == 0);
        let _ = ldap.unbind().await;
        ok
    }

    /// The base entry, `ou=people` and two people with their passwords.
    async fn seed(&self) {
        let mut ldap = self.connect().await.expect("connect to slapd");
        ldap.simple_bind(SERVICE_DN, SERVICE_PASSWORD)
            .await
            .and_then(|r| r.success())
            .expect("bind as the service account");
        let set = |values: &[&'static str]| values.iter().copied().collect::<HashSet<_>>();
        let entries: Vec<Entry> = vec![
            (
                BASE_DN.into(),
                vec![
                    ("objectClass", set(&["top", "dcObject", "organization"])),
                    ("dc", set(&["example"])),
                    ("o", set(&["Example"])),
                ],
            ),
            (
                PEOPLE_DN.into(),
                vec![
                    ("objectClass", set(&["organizationalUnit"])),
                    ("ou", set(&["people"])),
                ],
            ),
            person(ALICE, "Alice Tremblay", "Tremblay"),
            person(BOB, "Bob Gagnon", "Gagnon"),
        ];
        for (dn, attrs) in entries {
            ldap.add(&dn, attrs)
                .await
                .and_then(|r| r.success())
                .unwrap_or_else(|e| panic!("add {dn}: {e}"));
        }
        let _ = ldap.unbind().await;
    }
}

fn person(
    (uid, password): (&'static str, &'static str),
    cn: &'static str,
    sn: &'static str,
) -> Entry {
    let one = |v: &'static str| HashSet::from([v]);
    (
        Slapd::user_dn(uid),
        vec![
            (
                "objectClass",
                HashSet::from(["top", "person", "organizationalPerson", "inetOrgPerson"]),
            ),
            ("uid", one(uid)),
            ("cn", one(cn)),
            ("sn", one(sn)),
            ("userPassword", one(password)),
        ],
    )
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// slapd.conf: people bind with their own password and may change it; the root DN (the
/// service account) may do anything, Password Modify for anyone included.
fn config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix \"{BASE_DN}\"
rootdn \"{SERVICE_DN}\"
rootpw {SERVICE_PASSWORD}
directory {dir}/data
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to * by * read
"
    )
}
