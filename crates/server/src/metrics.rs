//! Operators' metrics in Prometheus's text format (served on `--metrics-addr` apart from
//! the API, by `app::metrics_router`): requests by route and status, their latency, each queue's depth and oldest job,
//! and webhook delivery attempts by result.
//!
//! Request and webhook counts are this process's own, since it started (Prometheus sums
//! the instances); queue figures are read from the database at each scrape, so every
//! instance reports the same, shared queues.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::store::QueueStats;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// What a webhook delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttemptResult {
    Succeeded,
    /// Failed; another attempt is scheduled.
    Retrying,
    /// Failed for the last time.
    GaveUp,
}

impl AttemptResult {
    fn label(self) -> &'static str {
        match self {
            AttemptResult::Succeeded => "succeeded",
            AttemptResult::Retrying => "retrying",
            AttemptResult::GaveUp => "gave_up",
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound of [`LATENCY_BUCKETS`] (not cumulative).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket] += 1;
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RouteKey {
    method: String,
    route: String,
}

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<(RouteKey, u16), u64>,
    latency: BTreeMap<RouteKey, Histogram>,
    webhook_attempts: BTreeMap<AttemptResult, u64>,
}

/// This process's counters. Cheap to update: one short lock per request.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

impl Metrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock leaves whole counters behind: keep counting.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = RouteKey {
            method: method.to_owned(),
            route: route.to_owned(),
        };
        let mut counts = self.counts();
        *counts.requests.entry((key.clone(), status)).or_default() += 1;
        counts.latency.entry(key).or_default().observe(seconds);
    }

    pub fn record_webhook_attempt(&self, result: AttemptResult) {
        *self.counts().webhook_attempts.entry(result).or_default() += 1;
    }

    /// Everything, in Prometheus's text exposition format (version 0.0.4).
    pub fn render(&self, queues: &[QueueStats]) -> String {
        let counts = self.counts();
        let mut out = String::new();
        family(
            &mut out,
            "converra_http_requests_total",
            "counter",
            "API requests answered, by method, route template and status",
        );
        for ((key, status), count) in &counts.requests {
            sample(
                &mut out,
                "converra_http_requests_total",
                &[
                    ("method", &key.method),
                    ("route", &key.route),
                    ("status", &status.to_string()),
                ],
                *count as f64,
            );
        }
        family(
            &mut out,
            "converra_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival until its response's head was ready",
        );
        for (key, histogram) in &counts.latency {
            let labels = [
                ("method", key.method.as_str()),
                ("route", key.route.as_str()),
            ];
            let mut cumulative = 0;
            for (bound, in_bucket) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += in_bucket;
                let le = bound.to_string();
                sample(
                    &mut out,
                    "converra_http_request_duration_seconds_bucket",
                    &[labels[0], labels[1], ("le", &le)],
                    cumulative as f64,
                );
            }
            sample(
                &mut out,
                "converra_http_request_duration_seconds_bucket",
                &[labels[0], labels[1], ("le", "+Inf")],
                histogram.count as f64,
            );
            sample(
                &mut out,
                "converra_http_request_duration_seconds_sum",
                &labels,
                histogram.sum_seconds,
            );
            sample(
                &mut out,
                "converra_http_request_duration_seconds_count",
                &labels,
                histogram.count as f64,
            );
        }
        family(
            &mut out,
            "converra_queue_depth",
            "gauge",
            "Jobs waiting in each queue (not yet started), across all instances",
        );
        for queue in queues {
            sample(
                &mut out,
                "converra_queue_depth",
                &[("queue", queue.queue)],
                queue.depth as f64,
            );
        }
        family(
            &mut out,
            "converra_queue_oldest_job_age_seconds",
            "gauge",
            "Age of each queue's oldest waiting job; 0 when the queue is empty",
        );
        for queue in queues {
            sample(
                &mut out,
                "converra_queue_oldest_job_age_seconds",
                &[("queue", queue.queue)],
                queue.oldest_age_ms as f64 / 1000.0,
            );
        }
        family(
            &mut out,
            "converra_webhook_attempts_total",
            "counter",
            "Webhook delivery attempts this instance made, by result",
        );
        for result in [
            AttemptResult::Succeeded,
            AttemptResult::Retrying,
            AttemptResult::GaveUp,
        ] {
            let count = counts.webhook_attempts.get(&result).copied().unwrap_or(0);
            sample(
                &mut out,
                "converra_webhook_attempts_total",
                &[("result", result.label())],
                count as f64,
            );
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the text format quotes it: backslash, double quote and newline escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn requests_are_counted_by_route_and_status_and_timed_in_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record_request("GET", "/api/v1/agents/{id}", 200, 0.003);
        metrics.record_request("GET", "/api/v1/agents/{id}", 200, 0.04);
        metrics.record_request("GET", "/api/v1/agents/{id}", 404, 20.0);
        let text = metrics.render(&[]);
        let lines = lines(&text);
        assert!(lines.contains(
            &r#"converra_http_requests_total{method="GET",route="/api/v1/agents/{id}",status="200"} 2"#
        ));
        assert!(lines.contains(
            &r#"converra_http_requests_total{method="GET",route="/api/v1/agents/{id}",status="404"} 1"#
        ));
        let bucket = |le: &str| {
            let prefix = format!(
                r#"converra_http_request_duration_seconds_bucket{{method="GET",route="/api/v1/agents/{{id}}",le="{le}"}} "#
            );
            lines
                .iter()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("no bucket {le} in {text}"))
                .to_owned()
        };
        assert_eq!(bucket("0.001"), "0");
        assert_eq!(bucket("0.005"), "1");
        assert_eq!(bucket("0.05"), "2");
        assert_eq!(bucket("10"), "2", "20 s is past the last bound");
        assert_eq!(bucket("+Inf"), "3");
        assert!(lines.contains(
            &r#"converra_http_request_duration_seconds_count{method="GET",route="/api/v1/agents/{id}"} 3"#
        ));
    }

    #[test]
    fn queues_and_webhook_results_are_reported_with_every_result_named() {
        let metrics = Metrics::default();
        metrics.record_webhook_attempt(AttemptResult::Succeeded);
        metrics.record_webhook_attempt(AttemptResult::Succeeded);
        metrics.record_webhook_attempt(AttemptResult::GaveUp);
        let text = metrics.render(&[QueueStats {
            queue: "insights",
            depth: 4,
            oldest_age_ms: 2_500,
        }]);
        let lines = lines(&text);
        for expected in [
            r#"converra_queue_depth{queue="insights"} 4"#,
            r#"converra_queue_oldest_job_age_seconds{queue="insights"} 2.5"#,
            r#"converra_webhook_attempts_total{result="succeeded"} 2"#,
            r#"converra_webhook_attempts_total{result="retrying"} 0"#,
            r#"converra_webhook_attempts_total{result="gave_up"} 1"#,
        ] {
            assert!(lines.contains(&expected), "{expected} not in {text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
