//! Trace export by OTLP over HTTP, configured by the standard OpenTelemetry variables
//! (`settings.rs`). Off unless an endpoint is set, and then nothing is built: no
//! exporter, no batch thread, no layer; the spans the code opens are DEBUG-level `tracing`
//! spans, disabled by the level filter at the default `LOG_LEVEL`.
//!
//! On, `layer` is one more layer of the subscriber (`logging::init`) with a filter of its
//! own: the spans of dmr's crates at DEBUG and their warnings and errors (which mark a
//! span's status), while the log layers keep `LOG_LEVEL`. Finished spans are batched by
//! the SDK's processor on a thread of its own and POSTed by `client::ExportClient`;
//! `shutdown` flushes what is left on a graceful stop.

mod client;
mod settings;

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider,
};
use tracing::Level;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

pub use settings::{Protocol, SamplerSetting, TraceSettings};

/// How long a graceful stop waits for the last spans to reach the collector.
const FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// The running export: keep it for the life of the process, then `shutdown`.
pub struct Tracing {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    pub endpoint: String,
    pub protocol: Protocol,
}

/// Starts the exporter. Its requests run on `runtime` (the process's).
pub fn start(settings: &TraceSettings, runtime: tokio::runtime::Handle) -> anyhow::Result<Tracing> {
    let protocol = match settings.protocol {
        Protocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client::ExportClient::new(runtime, settings.timeout))
        .with_endpoint(settings.endpoint.clone())
        .with_protocol(protocol)
        .with_timeout(settings.timeout)
        .with_headers(settings.headers.clone())
        .build()
        .context("cannot build the OTLP span exporter")?;
    let batch = BatchConfigBuilder::default()
        .with_scheduled_delay(settings.schedule_delay)
        .with_max_queue_size(settings.max_queue_size)
        .with_max_export_batch_size(settings.max_export_batch_size)
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(batch)
                .build(),
        )
        .with_sampler(sampler(settings.sampler))
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("dmr");
    dmr_http::set_trace_parent(continue_callers_trace);
    Ok(Tracing {
        provider,
        tracer,
        endpoint: settings.endpoint.clone(),
        protocol: settings.protocol,
    })
}

fn sampler(setting: SamplerSetting) -> Sampler {
    let parent_based = |root| Sampler::ParentBased(Box::new(root));
    match setting {
        SamplerSetting::AlwaysOn => Sampler::AlwaysOn,
        SamplerSetting::AlwaysOff => Sampler::AlwaysOff,
        SamplerSetting::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        SamplerSetting::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
        SamplerSetting::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
        SamplerSetting::ParentBasedTraceIdRatio(ratio) => {
            parent_based(Sampler::TraceIdRatioBased(ratio))
        }
    }
}

/// The request span continues the caller's trace when it sent a W3C `traceparent`.
fn continue_callers_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // Fails only for a span already started, which a request span never is here.
    let _ = span.set_parent(parent);
}

/// dmr's own spans (targets `dmr*`) at DEBUG and above, and their warnings and errors;
/// no other crate's spans, and no info or debug events (the access line stays a log line).
fn wanted(meta: &tracing::Metadata<'_>) -> bool {
    meta.target().starts_with("dmr")
        && if meta.is_span() {
            *meta.level() <= Level::DEBUG
        } else {
            *meta.level() <= Level::WARN
        }
}

impl Tracing {
    /// The subscriber layer that turns the wanted spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            // Attributes a collector would store for every span, and the time to take
            // them: the span names and fields say where it ran.
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(wanted).with_max_level_hint(LevelFilter::DEBUG))
    }

    /// Exports the spans still batched; bounded by `FLUSH_DEADLINE`. Call it while the
    /// runtime still runs (the exporter's requests run on it).
    pub fn shutdown(self) {
        match self.provider.shutdown_with_timeout(FLUSH_DEADLINE) {
            Ok(()) => tracing::info!(endpoint = %self.endpoint, "trace export flushed and stopped"),
            Err(e) => {
                tracing::warn!(endpoint = %self.endpoint, error = %e, "trace export did not flush")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dmr_spans_and_warnings_are_wanted() {
        use tracing::callsite::DefaultCallsite;
        use tracing::field::FieldSet;
        use tracing::metadata::Kind;
        macro_rules! meta {
            ($target:expr, $level:expr, $kind:expr) => {{
                static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
                static META: tracing::Metadata<'static> = tracing::Metadata::new(
                    "x",
                    $target,
                    $level,
                    None,
                    None,
                    None,
                    FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
                    $kind,
                );
                &META
            }};
        }
        assert!(wanted(meta!("dmr::request", Level::DEBUG, Kind::SPAN)));
        assert!(wanted(meta!(
            "dmr_registry::store",
            Level::DEBUG,
            Kind::SPAN
        )));
        assert!(!wanted(meta!("dmr::request", Level::TRACE, Kind::SPAN)));
        assert!(!wanted(meta!("hyper::proto", Level::DEBUG, Kind::SPAN)));
        assert!(!wanted(meta!("dmr::access", Level::INFO, Kind::EVENT)));
        assert!(wanted(meta!(
            "dmr_registry::registry",
            Level::ERROR,
            Kind::EVENT
        )));
        assert!(wanted(meta!(
            "dmr_registry::registry",
            Level::WARN,
            Kind::EVENT
        )));
    }
}
