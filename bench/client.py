#!/usr/bin/env python3
"""HTTP clients for bench/run.sh, on the standard library alone: they post Sésame's forms as
a browser without JavaScript does (the device cookie, the CSRF token and the form's fields
as the page gives them, Origin of the site), and print one JSON object.

  client.py signin-rate BASE LOGIN PASSWORD CONNECTIONS WARMUP_S SECONDS [SERVER_PID]
      successful sign-ins per second over CONNECTIONS keep-alive connections (each posts
      the sign-in form again as soon as it is answered), counted over SECONDS after WARMUP_S;
      with SERVER_PID, also the server's CPU time over those SECONDS per sign-in. The posts
      are wrk's (bench/signin.lua), so that the client takes little of the machine.
  client.py flood BASE LOGIN PASSWORD N
      N connections opened first, then N sign-in posts sent at once; how each was answered.
  client.py recovery-latency BASE LOGIN SAMPLES
      forgot password: the identify post (a new flow each time), then the timed post that
      chooses "a code by email" (the one that queues the mail); latency percentiles.
  client.py first-page BASE SITE_ROOT PATH
      the files under the site's package folder that the page at PATH loads when it is the
      first of a visit: what its HTML references under /pkg, and what those JS modules
      import in turn.
"""

import asyncio
import html.parser
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path


class Forms(html.parser.HTMLParser):
    """Every form of a page: its action, method and the values of its named inputs."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.meta = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content", "")


class Browser:
    """One browser: its cookies, over one keep-alive connection."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.origin = f"{url.scheme}://{url.netloc}"
        self.cookies = {}
        self.conn = None

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.conn

    def request(self, method, path, body=None):
        headers = {"Accept": "text/html", "User-Agent": "sesame-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            body = urllib.parse.urlencode(body).encode()
        for attempt in (1, 2):
            conn = self.connect()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data.decode("utf-8", "replace")

    def form(self, path, action_prefix):
        """The page's form whose action starts with `action_prefix`: (action, fields)."""
        status, _, page = self.request("GET", path)
        parser = Forms()
        parser.feed(page)
        for form in parser.forms:
            if form["action"].startswith(action_prefix):
                return form["action"], dict(form["fields"])
        raise SystemExit(f"GET {path}: {status}, no form posting to {action_prefix}")


def signin_form(base, login, password):
    browser = Browser(base)
    action, fields = browser.form("/signin", "/api/sign_in")
    fields.update({"login": login, "password": password})
    return browser, action, fields


def signed_in(status, headers):
    return status in (302, 303) and (headers.get("Location") or "").startswith("/account")


def process_cpu_s(pid):
    """User + system CPU time of a process (every thread), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu_ns(pid):
    """CPU time of each live thread of a process, in nanoseconds (schedstat), by thread id,
    with the thread's name."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            threads[task.name] = (name, int((task / "schedstat").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return threads


def thread_group(name):
    """Threads by what they do: "argon2-3" and "argon2-0" are both "argon2"."""
    return re.sub(r"[-_ ]?[0-9]+$", "", name) or name


def cpu_by_group(before, after):
    """Seconds of CPU each group of threads ran between two samples of threads_cpu_ns: the
    threads alive at the second (from 0 for those started meanwhile)."""
    groups = Counter()
    for tid, (name, ns) in after.items():
        start = before.get(tid, (name, 0))[1]
        groups[thread_group(name)] += (ns - start) / 1e9
    return groups


def signin_rate(base, login, password, connections, warmup, seconds, pid=None):
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (bench/run.sh installs it from Debian)")
    browser, action, fields = signin_form(base, login, password)
    status, headers, _ = browser.request("POST", action, fields)
    if not signed_in(status, headers):
        raise SystemExit(f"a sign-in was not accepted: {status} {headers.get('Location')}")
    # The load itself is wrk's (bench/signin.lua): this process only samples the server.
    t0 = time.monotonic()
    window = (t0 + warmup, t0 + warmup + seconds)
    load_env = dict(
        os.environ,
        SIGNIN_BODY=urllib.parse.urlencode(fields),
        SIGNIN_COOKIE="; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        SIGNIN_ORIGIN=browser.origin,
        SIGNIN_FROM=repr(window[0]),
        SIGNIN_TO=repr(window[1]),
    )
    script = Path(__file__).with_name("signin.lua")
    load = subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{math.ceil(warmup + seconds + 0.5)}s",
         "--timeout", "30s", "-s", str(script), base + action],
        env=load_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )

    cpu = []
    threads = []
    own_cpu = []
    for at in window:
        time.sleep(max(0.0, at - time.monotonic()))
        if pid:
            cpu.append(process_cpu_s(pid))
            threads.append(threads_cpu_ns(pid))
        own_cpu.append(time.process_time() + process_cpu_s(load.pid))
    output, _ = load.communicate()
    counts = next((json.loads(line.split(" ", 1)[1]) for line in output.splitlines()
                   if line.startswith("SIGNIN ")), None)
    if load.returncode != 0 or counts is None:
        raise SystemExit(f"wrk failed ({load.returncode}): {output.strip()[-500:]}")
    counted = {"signed in": counts["signed_in_counted"]}
    answers = {"signed in": counts["signed_in"]}
    if counts["other"]:
        counted[counts["other_example"]] = counts["other_counted"]
        answers[counts["other_example"]] = counts["other"]
    if counts["socket_errors"]:
        answers["socket errors"] = counts["socket_errors"]
    ok = counted["signed in"]
    server_cpu_s = cpu[1] - cpu[0] if len(cpu) == 2 else None
    # Where the server's CPU went: its threads by name (threads that ended within the
    # window, tokio's idle blocking threads, are only in the whole process's figure).
    thread_cpu_s = dict(cpu_by_group(*threads)) if len(threads) == 2 else None
    print(json.dumps({
        "rate": ok / seconds,
        "server_cpu_s": server_cpu_s,
        "server_cpu_ms_per_signin": 1000 * server_cpu_s / ok
        if server_cpu_s is not None and ok else None,
        "server_thread_cpu_s": thread_cpu_s,
        # The client (wrk, and this process waiting) shares the machine: what it takes,
        # the server cannot have.
        "client_cpu_s": own_cpu[1] - own_cpu[0],
        "connections": connections,
        "seconds": seconds,
        "counted": counted,
        "answers": answers,
    }))


async def flood(base, login, password, n):
    browser, action, fields = signin_form(base, login, password)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    body = urllib.parse.urlencode(fields).encode()
    request = (
        f"POST {action} HTTP/1.1\r\nHost: {browser.host}:{browser.port}\r\n"
        f"Origin: {browser.origin}\r\nAccept: text/html\r\nUser-Agent: sesame-bench\r\n"
        f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    go = asyncio.Event()
    answers = Counter()
    times = []
    ready = [0]

    async def one():
        try:
            reader, writer = await asyncio.open_connection(browser.host, browser.port)
        except OSError as e:
            answers[f"connect failed ({type(e).__name__})"] += 1
            ready[0] += 1
            return
        ready[0] += 1
        await go.wait()
        start = time.monotonic()
        try:
            writer.write(request)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 120)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 120)
            parts = status_line.split()
            status = parts[1].decode() if len(parts) > 1 else "no answer"
            location = re.search(rb"(?im)^location:\s*(\S+)", head)
            if status in ("302", "303") and location and location.group(1).startswith(b"/account"):
                status = "303 signed in"
            answers[status] += 1
            times.append(time.monotonic() - start)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError) as e:
            answers[f"no answer ({type(e).__name__})"] += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    # Every connection open (or refused) before any request leaves.
    while ready[0] < n:
        await asyncio.sleep(0.05)
    start = time.monotonic()
    go.set()
    await asyncio.gather(*tasks)
    times.sort()
    print(json.dumps({
        "n": n,
        "answers": dict(sorted(answers.items())),
        "all_answered_s": time.monotonic() - start,
        "p50_s": times[len(times) // 2] if times else None,
        "max_s": times[-1] if times else None,
    }))


def recovery_latency(base, login, samples):
    browser = Browser(base)
    action, identify = browser.form("/forgot-password", "/api/submit_password_recovery")
    times = []
    answers = Counter()
    for _ in range(samples + 2):
        fields = dict(identify)
        fields["form[identifier]"] = login
        status, headers, _ = browser.request("POST", action, fields)
        location = headers.get("Location") or ""
        if status not in (302, 303) or "flow=" not in location:
            raise SystemExit(f"identify: {status} {location}")
        flow = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["flow"][0]
        choose_action, choose = browser.form(location, "/api/submit_password_recovery")
        choose.update({"flow": flow, "form[method]": "email_code"})
        start = time.monotonic()
        status, headers, _ = browser.request("POST", choose_action, choose)
        elapsed = time.monotonic() - start
        answers[f"{status}"] += 1
        # The code page is next, its mail queued.
        _, _, page = browser.request("GET", headers.get("Location") or location)
        if 'name="form[code]"' not in page:
            raise SystemExit("choosing the email code did not lead to the code page")
        times.append(elapsed)
    times = sorted(times[2:])  # the first two warm the connection and the caches

    def at(q):  # nearest rank
        return times[max(0, math.ceil(q * len(times)) - 1)] * 1000

    print(json.dumps({
        "samples": len(times),
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "max_ms": times[-1] * 1000,
        "answers": dict(answers),
    }))


def first_page(base, site_root, path):
    browser = Browser(base)
    _, _, page = browser.request("GET", path)
    root = Path(site_root)
    seen = []
    queue = [m for m in re.findall(r"""["'(](/pkg/[^"'()\s>?#]+)""", page)]
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.append(url)
        path = root / url.lstrip("/")
        if url.endswith(".js") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for spec in re.findall(r"""(?:from\s*|import\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""", text):
                queue.append(urllib.parse.urljoin(url, spec))
    print(json.dumps([u for u in seen if (root / u.lstrip("/")).is_file()]))


def main():
    command, *args = sys.argv[1:]
    if command == "signin-rate":
        base, login, password, conns, warmup, seconds, *pid = args
        signin_rate(base, login, password, int(conns), float(warmup), float(seconds),
                    int(pid[0]) if pid else None)
    elif command == "flood":
        base, login, password, n = args
        asyncio.run(flood(base, login, password, int(n)))
    elif command == "recovery-latency":
        base, login, samples = args
        recovery_latency(base, login, int(samples))
    elif command == "first-page":
        first_page(*args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
