//! Operational metrics, rendered for `GET /metrics` in Prometheus' text format.
//!
//! One registry per process: counters and histograms are bumped where things happen
//! (requests, flows, mail, throttles), gauges are read when the metrics are scraped. Label
//! values come from code (route patterns, flow kinds, throttle scopes), never from what a
//! client sent, so the number of series stays bounded.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{LazyLock, Mutex, MutexGuard},
};

/// Upper bounds, in seconds, of the request latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Every metric: its name, type and help text, in the order they are rendered.
const FAMILIES: &[(&str, &str, &str)] = &[
    (
        "sesame_http_requests_total",
        "counter",
        "HTTP requests answered, by route pattern, method and status.",
    ),
    (
        "sesame_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route pattern.",
    ),
    (
        "sesame_flows_started_total",
        "counter",
        "Self-service flows started, by kind.",
    ),
    (
        "sesame_flows_completed_total",
        "counter",
        "Self-service flows completed, by kind.",
    ),
    (
        "sesame_flows_expired_total",
        "counter",
        "Unfinished flows removed after their expiry by the purge, by kind.",
    ),
    (
        "sesame_flows_abandoned_total",
        "counter",
        "Unfinished flows ended before their expiry, by kind and reason (cancelled by the person, superseded by a newer flow or a helpdesk letter).",
    ),
    (
        "sesame_mail_sent_total",
        "counter",
        "Messages handed to the mail transport.",
    ),
    (
        "sesame_mail_failures_total",
        "counter",
        "Failed mail sending attempts (retried later unless given up).",
    ),
    (
        "sesame_mail_given_up_total",
        "counter",
        "Messages given up after their last attempt.",
    ),
    (
        "sesame_mail_outbox_depth",
        "gauge",
        "Messages waiting in the outbox (all instances).",
    ),
    (
        "sesame_password_hash_queue_depth",
        "gauge",
        "Password checks and hashes waiting for a hashing slot on this instance.",
    ),
    (
        "sesame_password_hash_busy_total",
        "counter",
        "Requests refused with 503 because no hashing slot freed up in time.",
    ),
    (
        "sesame_throttle_hits_total",
        "counter",
        "Attempts refused because a throttle key was locked, by scope.",
    ),
    (
        "sesame_purged_rows_total",
        "counter",
        "Rows removed by the purge, by table.",
    ),
    (
        "sesame_process_resident_memory_bytes",
        "gauge",
        "Resident memory of this process.",
    ),
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    /// Observations at or below each bound of `LATENCY_BUCKETS` (not cumulative here).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves counts that are still valid numbers.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn add(name: &'static str, labels: Labels, by: u64) {
    *registry().counters.entry((name, labels)).or_default() += by;
}

/// One answered request; `route` is the route pattern, not the path asked for.
pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let mut registry = registry();
    *registry
        .counters
        .entry((
            "sesame_http_requests_total",
            vec![
                ("route", route.to_owned()),
                ("method", method.to_owned()),
                ("status", status.to_string()),
            ],
        ))
        .or_default() += 1;
    let histogram = registry
        .histograms
        .entry((
            "sesame_http_request_duration_seconds",
            vec![("route", route.to_owned())],
        ))
        .or_default();
    if let Some(slot) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
        histogram.buckets[slot] += 1;
    }
    histogram.count += 1;
    histogram.sum += seconds;
}

pub fn flow_started(kind: &str) {
    add("sesame_flows_started_total", vec![("kind", kind.into())], 1);
}

pub fn flow_completed(kind: &str) {
    add(
        "sesame_flows_completed_total",
        vec![("kind", kind.into())],
        1,
    );
}

pub fn flows_expired(kind: &str, count: u64) {
    add(
        "sesame_flows_expired_total",
        vec![("kind", kind.into())],
        count,
    );
}

/// Unfinished flows ended early: `reason` is `cancelled` or `superseded`.
pub fn flows_abandoned(kind: &str, reason: &'static str, count: u64) {
    if count > 0 {
        add(
            "sesame_flows_abandoned_total",
            vec![("kind", kind.into()), ("reason", reason.into())],
            count,
        );
    }
}

pub fn mail_sent() {
    add("sesame_mail_sent_total", Vec::new(), 1);
}

/// A failed attempt; `given_up` when it was the message's last.
pub fn mail_failed(given_up: bool) {
    add("sesame_mail_failures_total", Vec::new(), 1);
    if given_up {
        add("sesame_mail_given_up_total", Vec::new(), 1);
    }
}

pub fn password_hash_busy() {
    add("sesame_password_hash_busy_total", Vec::new(), 1);
}

/// A refusal because `key` is locked. The scope is the key's first two parts, without
/// the login or address that follows (which may hold colons itself, as IPv6 does), e.g.
/// `signin:login`.
pub fn throttle_hit(key: &str) {
    let scope: Vec<&str> = key.splitn(3, ':').take(2).collect();
    add(
        "sesame_throttle_hits_total",
        vec![("scope", scope.join(":"))],
        1,
    );
}

pub fn purged(table: &'static str, count: u64) {
    if count > 0 {
        add(
            "sesame_purged_rows_total",
            vec![("table", table.into())],
            count,
        );
    }
}

/// Values read at scrape time.
pub struct Gauges {
    pub outbox_depth: i64,
    pub hash_queue_depth: usize,
}

/// The metrics in Prometheus' text exposition format (version 0.0.4).
pub fn render(gauges: &Gauges) -> String {
    let registry = registry();
    let mut out = String::new();
    for (name, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        match *name {
            "sesame_mail_outbox_depth" => sample(&mut out, name, &[], gauges.outbox_depth),
            "sesame_password_hash_queue_depth" => {
                sample(&mut out, name, &[], gauges.hash_queue_depth)
            }
            "sesame_process_resident_memory_bytes" => {
                if let Some(bytes) = resident_memory_bytes() {
                    sample(&mut out, name, &[], bytes);
                }
            }
            _ if *kind == "histogram" => {
                for ((_, labels), histogram) in registry.histograms.range(family(name)) {
                    let mut cumulative = 0;
                    for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                        cumulative += count;
                        let mut with_le = labels.clone();
                        with_le.push(("le", bound.to_string()));
                        sample(&mut out, &format!("{name}_bucket"), &with_le, cumulative);
                    }
                    let mut with_le = labels.clone();
                    with_le.push(("le", "+Inf".into()));
                    sample(
                        &mut out,
                        &format!("{name}_bucket"),
                        &with_le,
                        histogram.count,
                    );
                    sample(&mut out, &format!("{name}_sum"), labels, histogram.sum);
                    sample(&mut out, &format!("{name}_count"), labels, histogram.count);
                }
            }
            _ => {
                for ((_, labels), value) in registry.counters.range(family(name)) {
                    sample(&mut out, name, labels, value);
                }
            }
        }
    }
    out
}

/// The keys of one metric family in a map ordered by (name, labels).
fn family(name: &'static str) -> std::ops::RangeInclusive<(&'static str, Labels)> {
    let last = vec![("\u{10ffff}", String::new())];
    (name, Vec::new())..=(name, last)
}

fn sample(out: &mut String, name: &str, labels: &[(&str, String)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{label}=\"{escaped}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// This process' resident set size, from `/proc` (Linux); `None` elsewhere.
fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> String {
        render(&Gauges {
            outbox_depth: 3,
            hash_queue_depth: 1,
        })
    }

    fn value_of(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn counters_histograms_and_gauges_render_in_the_text_format() {
        http_request("/unit-test/{id}", "GET", 200, 0.004);
        http_request("/unit-test/{id}", "GET", 200, 3.0);
        flow_started("unit-test-kind");
        throttle_hit("unit:test:someone@example.org");
        throttle_hit("unit:test:2001:db8::1");
        let text = rendered();
        let route = r#"route="/unit-test/{id}""#;
        assert_eq!(
            value_of(
                &text,
                &format!(r#"sesame_http_requests_total{{{route},method="GET",status="200"}}"#)
            ),
            Some(2.0)
        );
        assert_eq!(
            value_of(
                &text,
                &format!(r#"sesame_http_request_duration_seconds_bucket{{{route},le="0.005"}}"#)
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value_of(
                &text,
                &format!(r#"sesame_http_request_duration_seconds_bucket{{{route},le="+Inf"}}"#)
            ),
            Some(2.0)
        );
        assert_eq!(
            value_of(
                &text,
                r#"sesame_flows_started_total{kind="unit-test-kind"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value_of(&text, r#"sesame_throttle_hits_total{scope="unit:test"}"#),
            Some(2.0),
            "the scope drops the login or address"
        );
        assert_eq!(value_of(&text, "sesame_mail_outbox_depth"), Some(3.0));
        assert!(text.contains("# TYPE sesame_http_request_duration_seconds histogram"));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("l", "a\"b\\c\nd".into())], 1);
        assert_eq!(out, "m{l=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
