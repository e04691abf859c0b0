//! The server's figures in Prometheus text (`GET /metrics`): requests by route
//! and status with latency histograms, tokens issued by kind and grant,
//! introspections by kind and result, failed logins, the database pool, the
//! sweeper and the in-memory buffers.
//!
//! Invariant: every label takes values from a small fixed set (route patterns,
//! not paths; token kinds; grant names), so the series stay bounded.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    tokens_issued: IntCounterVec,
    introspections: IntCounterVec,
    failed_logins: IntCounterVec,
    swept: IntCounterVec,
    calls_dropped: IntCounter,
    key_reloads: IntCounter,
    /// Set when scraped: the database pool and the buffers.
    pool: IntGaugeVec,
    buffered: IntGaugeVec,
}

fn counter(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntGaugeVec> {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn single(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntCounter> {
    let metric = IntCounter::new(name, help)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    /// Fails only on an invalid definition in this file (the unit test makes them).
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let requests = counter(
            &registry,
            "tessera_http_requests_total",
            "Requests answered, by route pattern, method and status.",
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("tessera_http_request_duration_seconds", "Time to answer, by route pattern.")
                .buckets(vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ]),
            &["route"],
        )?;
        registry.register(Box::new(latency.clone()))?;
        let tokens_issued = counter(
            &registry,
            "tessera_tokens_issued_total",
            "Tokens issued by the token endpoint, by kind (access_token, refresh_token, id_token) and grant.",
            &["kind", "grant"],
        )?;
        let introspections = counter(
            &registry,
            "tessera_introspections_total",
            "Introspection answers, by token kind and result (active, inactive).",
            &["kind", "result"],
        )?;
        let failed_logins = counter(
            &registry,
            "tessera_failed_logins_total",
            "Refused sign-ins, by reason (wrong_credentials, throttled).",
            &["reason"],
        )?;
        let swept = counter(
            &registry,
            "tessera_swept_rows_total",
            "Rows the sweeper deleted, by table.",
            &["table"],
        )?;
        let calls_dropped = single(
            &registry,
            "tessera_endpoint_calls_dropped_total",
            "Endpoint calls dropped because the buffer was full between writes.",
        )?;
        let key_reloads = single(&registry, "tessera_signing_key_reloads_total", "Signing key set reloads.")?;
        let pool = gauge(
            &registry,
            "tessera_db_pool_connections",
            "Database pool connections, by state (open, idle, max).",
            &["state"],
        )?;
        let buffered = gauge(
            &registry,
            "tessera_buffered_entries",
            "Entries waiting in memory to be written, by buffer (endpoint_calls, token_uses).",
            &["buffer"],
        )?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            tokens_issued,
            introspections,
            failed_logins,
            swept,
            calls_dropped,
            key_reloads,
            pool,
            buffered,
        })
    }

    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[route, method, status_label(status)]).inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    pub fn token_issued(&self, kind: &str, grant: &str) {
        self.tokens_issued.with_label_values(&[kind, grant]).inc();
    }

    pub fn introspection(&self, kind: &str, active: bool) {
        self.introspections.with_label_values(&[kind, if active { "active" } else { "inactive" }]).inc();
    }

    pub fn failed_login(&self, reason: &str) {
        self.failed_logins.with_label_values(&[reason]).inc();
    }

    pub fn swept(&self, table: &str, rows: u64) {
        self.swept.with_label_values(&[table]).inc_by(rows);
    }

    pub fn calls_dropped(&self, n: u64) {
        self.calls_dropped.inc_by(n);
    }

    pub fn key_reloaded(&self) {
        self.key_reloads.inc();
    }

    /// The text exposition, with the gauges set from `now`'s figures.
    pub fn render(&self, pool: PoolFigures, buffered_calls: usize, buffered_uses: usize) -> String {
        self.pool.with_label_values(&["open"]).set(i64::from(pool.open));
        self.pool.with_label_values(&["idle"]).set(pool.idle as i64);
        self.pool.with_label_values(&["max"]).set(i64::from(pool.max));
        self.buffered.with_label_values(&["endpoint_calls"]).set(buffered_calls as i64);
        self.buffered.with_label_values(&["token_uses"]).set(buffered_uses as i64);
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The database pool's connections.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolFigures {
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// Statuses as labels without an allocation per request.
fn status_label(status: u16) -> &'static str {
    const KNOWN: [(u16, &str); 18] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (302, "302"),
        (303, "303"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (408, "408"),
        (409, "409"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (500, "500"),
        (503, "503"),
    ];
    KNOWN.iter().find(|(code, _)| *code == status).map(|(_, label)| *label).unwrap_or(match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_render_as_prometheus_text() {
        let m = Metrics::new().unwrap();
        m.request("/token", "POST", 200, 0.002);
        m.token_issued("access_token", "client_credentials");
        m.introspection("mobile", false);
        m.failed_login("wrong_credentials");
        m.swept("sessions", 3);
        let text = m.render(PoolFigures { open: 2, idle: 1, max: 8 }, 5, 0);
        for line in [
            "tessera_http_requests_total{method=\"POST\",route=\"/token\",status=\"200\"} 1",
            "tessera_tokens_issued_total{grant=\"client_credentials\",kind=\"access_token\"} 1",
            "tessera_introspections_total{kind=\"mobile\",result=\"inactive\"} 1",
            "tessera_failed_logins_total{reason=\"wrong_credentials\"} 1",
            "tessera_swept_rows_total{table=\"sessions\"} 3",
            "tessera_db_pool_connections{state=\"max\"} 8",
            "tessera_buffered_entries{buffer=\"endpoint_calls\"} 5",
            "tessera_http_request_duration_seconds_bucket{route=\"/token\",le=\"0.0025\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert_eq!(status_label(418), "4xx");
    }
}
