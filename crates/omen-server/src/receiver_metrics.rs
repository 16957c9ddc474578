//! The receiver's own counters and request-duration histogram, kept with `prometheus-client`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A request's protocol and status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// `1.0`, `2.0`, or `unknown` when negotiation failed.
    pub(crate) protocol: &'static str,
    /// The HTTP status answered.
    pub(crate) code: u16,
}

/// Why something was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabels {
    /// A stable snake_case reason.
    pub(crate) reason: &'static str,
}

/// Everything the write endpoint counts.
#[derive(Debug)]
pub(crate) struct ReceiverMetrics {
    registry: Registry,
    /// Requests by protocol and status code.
    pub(crate) requests: Family<RequestLabels, Counter>,
    /// Whole requests refused, by reason (unsupported media type, too large, undecodable,
    /// unauthorised, overload).
    pub(crate) rejected_requests: Family<ReasonLabels, Counter>,
    /// Series dropped from otherwise valid requests, by reason.
    pub(crate) invalid_series: Family<ReasonLabels, Counter>,
    /// Float samples in decoded requests (valid series or not).
    pub(crate) samples_received: Counter,
    /// Samples of invalid series, dropped.
    pub(crate) samples_invalid: Counter,
    /// Samples handed to the engine.
    pub(crate) samples_written: Counter,
    /// Native histograms received (accepted and not modelled).
    pub(crate) histograms_received: Counter,
    /// Exemplars received (accepted and not modelled).
    pub(crate) exemplars_received: Counter,
    /// Metadata entries received.
    pub(crate) metadata_received: Counter,
    /// Seconds from request to answer.
    pub(crate) request_seconds: Histogram,
}

impl ReceiverMetrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            requests: Family::default(),
            rejected_requests: Family::default(),
            invalid_series: Family::default(),
            samples_received: Counter::default(),
            samples_invalid: Counter::default(),
            samples_written: Counter::default(),
            histograms_received: Counter::default(),
            exemplars_received: Counter::default(),
            metadata_received: Counter::default(),
            request_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 14)),
            registry: Registry::default(),
        };
        registry.register(
            "omen_remote_write_requests",
            "Remote-write requests, by protocol and status code",
            metrics.requests.clone(),
        );
        registry.register(
            "omen_remote_write_rejected_requests",
            "Remote-write requests refused as a whole, by reason",
            metrics.rejected_requests.clone(),
        );
        registry.register(
            "omen_remote_write_invalid_series",
            "Series dropped from remote-write requests, by reason (the rest of the request is kept)",
            metrics.invalid_series.clone(),
        );
        registry.register(
            "omen_remote_write_samples_received",
            "Float samples in decoded remote-write requests",
            metrics.samples_received.clone(),
        );
        registry.register(
            "omen_remote_write_samples_invalid",
            "Samples of invalid series, dropped",
            metrics.samples_invalid.clone(),
        );
        registry.register(
            "omen_remote_write_samples_written",
            "Samples accepted and handed to the detection engine",
            metrics.samples_written.clone(),
        );
        registry.register(
            "omen_remote_write_histograms_received",
            "Native histograms received (accepted, not modelled)",
            metrics.histograms_received.clone(),
        );
        registry.register(
            "omen_remote_write_exemplars_received",
            "Exemplars received (accepted, not modelled)",
            metrics.exemplars_received.clone(),
        );
        registry.register(
            "omen_remote_write_metadata_received",
            "Metadata entries received",
            metrics.metadata_received.clone(),
        );
        registry.register(
            "omen_remote_write_request_duration_seconds",
            "Time from receiving a remote-write request to answering it",
            metrics.request_seconds.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// Count one answered request.
    pub(crate) fn answered(&self, protocol: &'static str, code: u16) {
        self.requests
            .get_or_create(&RequestLabels { protocol, code })
            .inc();
    }

    /// Count one request refused as a whole.
    pub(crate) fn rejected(&self, reason: &'static str) {
        self.rejected_requests
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// The OpenMetrics text of every metric here, without the final `# EOF`.
    pub(crate) fn encode(&self, out: &mut String) {
        prometheus_client::encoding::text::encode_registry(out, &self.registry)
            .expect("writing to a String cannot fail");
    }
}
