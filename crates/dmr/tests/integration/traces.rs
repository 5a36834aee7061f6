//! Trace export, against an OTLP/HTTP receiver the test runs itself (`Receiver`: POST
//! /v1/traces, protobuf or JSON, decoded with the OTLP types): the spans of a request that
//! misses L1, compiles and reads the store arrive with their attributes and parent links,
//! in the caller's trace; an L1 hit is one short trace; a graceful stop flushes what is
//! batched; and with no endpoint set nothing is exported and no exporter thread runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;

use crate::support::TestServer;
use crate::support::server::mongodb_run;

/// A caller's W3C trace context: the request span must continue this trace.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// One exported span, flattened.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    kind: i32,
    attributes: HashMap<String, String>,
}

impl Exported {
    fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map(String::as_str).unwrap_or("")
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<Exported>,
    content_types: Vec<String>,
}

/// A minimal OTLP/HTTP trace receiver on a free loopback port.
struct Receiver {
    endpoint: String,
    received: Arc<Mutex<Received>>,
}

impl Receiver {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let store = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let store = Arc::clone(&store);
                async move { accept(&store, &headers, &body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { endpoint, received }
    }

    fn spans(&self) -> Vec<Exported> {
        self.received.lock().unwrap().spans.clone()
    }

    fn content_types(&self) -> Vec<String> {
        self.received.lock().unwrap().content_types.clone()
    }

    /// Waits (at most 10 s) until `done` holds for the spans received.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Exported]) -> bool) -> Vec<Exported> {
        let started = Instant::now();
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{what}: not received within 10 s; received: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Decodes one export (protobuf or JSON, by its content type) as a collector does.
fn accept(store: &Mutex<Received>, headers: &HeaderMap, body: &[u8]) -> (StatusCode, Vec<u8>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let request = if content_type == "application/json" {
        serde_json::from_slice::<ExportTraceServiceRequest>(body).map_err(|e| e.to_string())
    } else {
        ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string())
    };
    let Ok(request) = request else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut received = store.lock().unwrap();
    received.content_types.push(content_type);
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref()))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                received.spans.push(Exported {
                    service: service.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
                        .collect(),
                });
            }
        }
    }
    // An empty ExportTraceServiceResponse is zero bytes in protobuf.
    (StatusCode::OK, Vec::new())
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(n)) => n.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The threads of a process by name (Linux truncates a name to 15 bytes).
fn thread_names(pid: i32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

const EXPORTER_THREAD: &str = "OpenTelemetry.T"; // "OpenTelemetry.Traces.BatchProcessor"

async fn start_exporting(receiver: &Receiver, extra: &[(&str, &str)]) -> TestServer {
    let mut builder = TestServer::builder()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str())
        .env("OTEL_BSP_SCHEDULE_DELAY", "50");
    for (name, value) in extra {
        builder = builder.env(name, *value);
    }
    builder.start().await
}

/// True when `span`'s chain of parents reaches `ancestor` among `spans`.
fn descends_from(spans: &[Exported], span: &Exported, ancestor: &Exported) -> bool {
    let by_id: HashMap<&str, &Exported> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let mut current = span;
    for _ in 0..spans.len() {
        if current.parent_span_id == ancestor.span_id {
            return true;
        }
        match by_id.get(current.parent_span_id.as_str()) {
            Some(parent) => current = parent,
            None => return false,
        }
    }
    false
}

const COUNT_ROUTE: &str = "/api/models/{tenant_id}/{model_name}/documents/count";

#[tokio::test]
async fn a_compiling_request_arrives_as_one_trace_with_its_cache_compile_and_store_spans() {
    let receiver = Receiver::start().await;
    let server = start_exporting(&receiver, &[]).await;
    assert!(server.logged("traces exported by OTLP").await);
    assert!(
        thread_names(server.pid())
            .iter()
            .any(|n| n == EXPORTER_THREAD),
        "the exporter's batch thread runs: {:?}",
        thread_names(server.pid())
    );

    // First use of the tenant: L1 misses, the model compiles (store: open, ensure the
    // collection), then the count runs on the store; in the caller's trace.
    let response = server
        .client
        .get(format!(
            "{}/api/models/acme/User/documents/count",
            server.base
        ))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let is_count = |s: &Exported| {
        s.attr("db.operation.name") == "count" && s.attr("db.collection.name") == "users"
    };
    let spans = receiver
        .wait_for("the request's spans", |spans| {
            spans.iter().any(|s| s.attr("http.route") == COUNT_ROUTE)
                && spans.iter().any(|s| s.name == "compile")
                && spans.iter().any(is_count)
        })
        .await;
    let request = spans
        .iter()
        .find(|s| s.attr("http.route") == COUNT_ROUTE)
        .unwrap();
    assert_eq!(request.name, format!("GET {COUNT_ROUTE}"));
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(request.attr("http.request.method"), "GET");
    assert_eq!(request.attr("http.response.status_code"), "200");
    assert_eq!(
        request.attr("url.path"),
        "/api/models/acme/User/documents/count"
    );
    assert_eq!(request.attr("tenant"), "acme");
    assert_eq!(request.service, "dmr", "OTEL_SERVICE_NAME's default");
    assert_eq!(
        request.trace_id, CALLER_TRACE,
        "the caller's trace continues"
    );
    assert_eq!(request.parent_span_id, CALLER_SPAN);

    let trace: Vec<Exported> = spans
        .iter()
        .filter(|s| s.trace_id == CALLER_TRACE)
        .cloned()
        .collect();
    let named = |name: &str| {
        trace
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} span in the trace: {trace:#?}"))
    };
    let lookup = named("l1 lookup");
    assert_eq!(lookup.attr("cache.hit"), "false");
    assert_eq!(lookup.parent_span_id, request.span_id);
    let load = named("model load");
    assert_eq!(load.parent_span_id, request.span_id);
    let compile = named("compile");
    assert!(
        descends_from(&trace, compile, load),
        "{compile:#?} under {load:#?}"
    );
    assert_eq!(compile.attr("tenant"), "acme");
    assert_eq!(compile.attr("model"), "User");

    let db_system = if mongodb_run() { "mongodb" } else { "sqlite" };
    let ensure = trace
        .iter()
        .find(|s| s.attr("db.operation.name") == "ensure_collection")
        .unwrap_or_else(|| panic!("no ensure_collection span: {trace:#?}"));
    assert_eq!(ensure.parent_span_id, compile.span_id);
    assert_eq!(ensure.name, "ensure_collection users");
    assert_eq!(ensure.kind, SpanKind::Client as i32);
    assert_eq!(ensure.attr("db.system"), db_system);
    assert_eq!(ensure.attr("db.namespace"), "tenant_acme");
    assert_eq!(ensure.attr("db.collection.name"), "users");
    let count = trace.iter().find(|s| is_count(s)).unwrap();
    assert!(descends_from(&trace, count, request));
    assert!(
        !descends_from(&trace, count, compile),
        "the count runs after the compile"
    );
    assert_eq!(count.attr("db.system"), db_system);
    assert_eq!(count.attr("db.namespace"), "tenant_acme");
    assert!(
        receiver
            .content_types()
            .iter()
            .all(|c| c == "application/x-protobuf"),
        "http/protobuf is the default: {:?}",
        receiver.content_types()
    );

    // The same request again is an L1 hit: a trace of its own (no caller context), with
    // the lookup and the count and no compile.
    let (status, _) = server.get("/api/models/acme/User/documents/count").await;
    assert_eq!(status, 200);
    let spans = receiver
        .wait_for("the L1 hit's spans", |spans| {
            spans
                .iter()
                .any(|s| s.attr("http.route") == COUNT_ROUTE && s.trace_id != CALLER_TRACE)
                && spans.iter().filter(|s| is_count(s)).count() == 2
        })
        .await;
    let hit = spans
        .iter()
        .find(|s| s.attr("http.route") == COUNT_ROUTE && s.trace_id != CALLER_TRACE)
        .unwrap();
    assert_eq!(hit.parent_span_id, "", "a root span");
    let hit_trace: Vec<&Exported> = spans
        .iter()
        .filter(|s| s.trace_id == hit.trace_id)
        .collect();
    assert!(
        hit_trace
            .iter()
            .any(|s| s.name == "l1 lookup" && s.attr("cache.hit") == "true")
    );
    assert!(
        !hit_trace
            .iter()
            .any(|s| s.name == "compile" || s.name == "model load")
    );
}

#[tokio::test]
async fn http_json_and_the_service_name_are_honoured() {
    let receiver = Receiver::start().await;
    let server = start_exporting(
        &receiver,
        &[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "dmr-eu-1"),
        ],
    )
    .await;
    let (status, _) = server.get("/api/models/acme/User").await;
    assert_eq!(status, 200);
    let spans = receiver
        .wait_for("a request span", |spans| {
            spans
                .iter()
                .any(|s| s.attr("http.route") == "/api/models/{tenant_id}/{model_name}")
        })
        .await;
    assert!(spans.iter().all(|s| s.service == "dmr-eu-1"));
    assert!(spans.iter().any(|s| s.name == "compile"));
    assert!(
        receiver
            .content_types()
            .iter()
            .all(|c| c == "application/json"),
        "{:?}",
        receiver.content_types()
    );
}

#[tokio::test]
async fn a_graceful_stop_flushes_the_spans_still_batched() {
    let receiver = Receiver::start().await;
    // A batch that would wait ten minutes: only the shutdown's flush can send it.
    let mut server = TestServer::builder()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str())
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .start()
        .await;
    let (status, _) = server.get("/api/models/acme/User").await;
    assert_eq!(status, 200);
    assert!(receiver.spans().is_empty(), "nothing sent before the stop");
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(15)).await, Some(0));
    let spans = receiver.spans();
    assert!(
        spans.iter().any(|s| s.name == "compile")
            && spans
                .iter()
                .any(|s| s.attr("http.route") == "/api/models/{tenant_id}/{model_name}"),
        "flushed at shutdown: {spans:#?}\n{}",
        server.output()
    );
}

#[tokio::test]
async fn with_no_endpoint_nothing_is_exported_and_no_exporter_runs() {
    // Every other OTel variable set, the endpoint not: export stays off (an SDK left to
    // its defaults would export to localhost:4318).
    let server = TestServer::builder()
        .env("OTEL_BSP_SCHEDULE_DELAY", "10")
        .env("OTEL_SERVICE_NAME", "dmr")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .start()
        .await;
    assert!(server.logged("trace export off").await);
    for _ in 0..3 {
        let (status, _) = server.get("/api/models/acme/User/documents/count").await;
        assert_eq!(status, 200);
    }
    let threads = thread_names(server.pid());
    assert!(
        !threads.iter().any(|n| n.starts_with("OpenTelemetry")),
        "no exporter thread: {threads:?}"
    );
}

#[tokio::test]
async fn a_bad_otel_variable_stops_the_start_with_its_name() {
    let (code, output) = TestServer::builder()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .failed_start()
        .await;
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{output}");
    assert!(output.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{output}");
}
