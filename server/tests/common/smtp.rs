//! A real SMTP server process (aiosmtpd, from PyPI, installed by
//! scripts/install-tools.sh) delivering to a maildir. Used by `smtp.rs` and
//! `faults.rs`.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// `python3 -m aiosmtpd` on a port, writing what it receives to `maildir`; killed when
/// dropped.
pub struct SmtpServer {
    child: Child,
    pub maildir: PathBuf,
}

impl SmtpServer {
    /// Starts the server and waits (up to 10 s) until it accepts connections.
    pub fn start(port: u16, maildir: &Path) -> SmtpServer {
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (run scripts/install-tools.sh)");
        let server = SmtpServer {
            child,
            maildir: maildir.to_owned(),
        };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("aiosmtpd did not start on port {port} (is it installed? scripts/install-tools.sh)");
    }

    /// The messages delivered so far, as raw text.
    pub fn delivered(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) {
                for entry in entries.flatten() {
                    messages.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        messages
    }

    /// Stops the server and waits for it to be gone (its port free again).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
