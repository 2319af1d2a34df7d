//! The `sesame` binary run as a server process, and a plain HTTP/1.0 client for it: for
//! the tests that restart, kill or multiply servers (several instances, faults).
#![allow(dead_code)]

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// A `sesame serve` process; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts `sesame serve` on a free port with these `SESAME_*` settings (nothing from
    /// the environment's `SESAME_CONFIG`), logging to `log`, and waits until it answers.
    pub fn start(env: &[(&str, String)], log: &Path) -> Server {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        Server::start_on(free_port(), env, log)
    }

    fn start_on(port: u16, env: Vec<(String, String)>, log: &Path) -> Server {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env_remove("SESAME_CONFIG")
            .env("SESAME_LOG", "info,sqlx=warn")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start sesame serve");
        let server = Server {
            child,
            port,
            log: log.to_owned(),
            env,
        };
        server.wait_until_up();
        server
    }

    fn wait_until_up(&self) {
        let started = Instant::now();
        while get_raw(self.port, "/healthz").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "sesame on port {} never answered; its log:\n{}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and wait for the graceful shutdown.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// The same server again, on the same port, after it was stopped or killed.
    pub fn restart(self) -> Server {
        let port = self.port;
        let env = self.env.clone();
        let log = self.log.clone();
        drop(self);
        Server::start_on(port, env, &log)
    }

    /// The process' peak resident memory so far, in KiB (Linux `VmHWM`).
    pub fn peak_memory_kib(&self) -> Option<u64> {
        memory_kib(self.child.id(), "VmHWM:")
    }

    /// The process' resident memory now, in KiB (Linux `VmRSS`).
    pub fn memory_kib(&self) -> Option<u64> {
        memory_kib(self.child.id(), "VmRSS:")
    }

    pub fn client(&self) -> Client {
        Client::new(self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn get_raw(port: u16, path: &str) -> std::io::Result<Reply> {
    exchange(
        port,
        &format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"),
        &[],
    )
}

/// One answer: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

/// HTTP/1.0 (so no chunked bodies) over one connection per request.
fn exchange(port: u16, head: &str, body: &[u8]) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// A browser without JavaScript: keeps cookies, posts forms, does not follow redirects.
#[derive(Clone)]
pub struct Client {
    pub port: u16,
    cookies: Vec<(String, String)>,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(port: u16) -> Client {
        Client {
            port,
            cookies: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn common_head(&self, method: &str, path: &str) -> String {
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n",
            port = self.port
        );
        if !self.cookies.is_empty() {
            let cookies: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head
    }

    fn remember(&mut self, reply: &Reply) {
        for (_, value) in reply.headers.iter().filter(|(n, _)| n == "set-cookie") {
            let pair = value.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                if !value.is_empty() {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    pub fn try_get(&mut self, path: &str) -> std::io::Result<Reply> {
        let head = format!("{}\r\n", self.common_head("GET", path));
        let reply = exchange(self.port, &head, &[])?;
        self.remember(&reply);
        Ok(reply)
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path} on port {}: {e}", self.port))
    }

    pub fn try_post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> std::io::Result<Reply> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let head = format!(
            "{}Origin: http://127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {length}\r\n\r\n",
            self.common_head("POST", path),
            port = self.port,
            length = body.len()
        );
        let reply = exchange(self.port, &head, body.as_bytes())?;
        self.remember(&reply);
        Ok(reply)
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.try_post_form(path, fields)
            .unwrap_or_else(|e| panic!("POST {path} on port {}: {e}", self.port))
    }
}

/// A message the file transport wrote.
#[derive(Debug)]
pub struct Mail {
    pub file: PathBuf,
    pub to: String,
    pub message_id: String,
    pub text: String,
}

impl Mail {
    /// The 6-digit code in the text, if any.
    pub fn code(&self) -> Option<&str> {
        self.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 6)
    }
}

/// Every `.eml` in `dir`, oldest file name first.
pub fn read_mails(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let raw = std::fs::read(&file).ok()?;
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            let to = message
                .to()
                .and_then(|to| to.first())
                .and_then(|address| address.address())
                .unwrap_or("")
                .to_owned();
            Some(Mail {
                to,
                message_id: message.message_id().unwrap_or("").to_owned(),
                text: message
                    .body_text(0)
                    .map(|t| t.into_owned())
                    .unwrap_or_default(),
                file,
            })
        })
        .collect()
}

/// Waits up to `seconds` for the mails to `to` to number `count`, and answers them.
pub fn wait_for_mails(dir: &Path, to: &str, count: usize, seconds: u64) -> Vec<Mail> {
    let started = Instant::now();
    loop {
        let mails: Vec<Mail> = read_mails(dir).into_iter().filter(|m| m.to == to).collect();
        if mails.len() >= count || started.elapsed() > Duration::from_secs(seconds) {
            return mails;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The hidden fields (name, value) of the form that posts to `server_fn`: the step, the
/// flow id and the CSRF token a browser sends back.
pub fn hidden_fields(html: &str, server_fn: &str) -> Vec<(String, String)> {
    let marker = format!("action=\"/api/{server_fn}");
    let Some(start) = html.find(&marker) else {
        return Vec::new();
    };
    let form = &html[start..];
    let form = &form[..form.find("</form>").unwrap_or(form.len())];
    form.split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            if !tag.contains("type=\"hidden\"") {
                return None;
            }
            let attribute = |name: &str| {
                let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
                let end = tag[at..].find('"')?;
                Some(tag[at..at + end].replace("&amp;", "&"))
            };
            Some((attribute("name")?, attribute("value").unwrap_or_default()))
        })
        .collect()
}
