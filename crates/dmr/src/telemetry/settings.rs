//! The standard OpenTelemetry variables that trace export reads, as the OTel SDKs read
//! them (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
//! and the OTLP exporter's), parsed in one pass: every bad value is reported with its
//! variable and the form it accepts, and the process does not start.

use std::collections::HashMap;
use std::time::Duration;

/// Where and how spans are exported; `None` from [`TraceSettings::from_lookup`] when no
/// endpoint is set (or export is switched off), and then nothing is built at all.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSettings {
    /// The full URL spans are POSTed to (`…/v1/traces`).
    pub endpoint: String,
    pub protocol: Protocol,
    /// `OTEL_EXPORTER_OTLP_HEADERS` (then `_TRACES_HEADERS` over it), values URL-decoded.
    pub headers: HashMap<String, String>,
    pub timeout: Duration,
    pub service_name: String,
    pub sampler: SamplerSetting,
    /// `OTEL_BSP_SCHEDULE_DELAY`: how long a finished span waits for its batch.
    pub schedule_delay: Duration,
    pub max_queue_size: usize,
    pub max_export_batch_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    HttpProtobuf,
    HttpJson,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }
}

/// `OTEL_TRACES_SAMPLER` with its argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerSetting {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

/// One invalid variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}={:?}: expected {}",
            self.name, self.value, self.expected
        )
    }
}

const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const ENDPOINT_FORM: &str = "an http:// URL (https needs a TLS client this build does not carry: export to a local collector)";

impl TraceSettings {
    /// Reads the variables through `lookup` (the environment over `.env`; an empty value
    /// counts as unset). `Ok(None)`: export is off.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, Vec<SettingError>> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut errors = Vec::new();
        let mut bad = |name: &'static str, value: &str, expected: &'static str| {
            errors.push(SettingError {
                name,
                value: value.to_owned(),
                expected,
            })
        };

        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        if let Some(exporter) = get("OTEL_TRACES_EXPORTER")
            && !exporter.eq_ignore_ascii_case("otlp")
        {
            bad("OTEL_TRACES_EXPORTER", &exporter, "otlp or none");
        }
        // The signal's own endpoint is used as it is; the base one gets the signal's path.
        let endpoint = match (get(TRACES_ENDPOINT), get(ENDPOINT)) {
            (Some(url), _) => Some((TRACES_ENDPOINT, url)),
            (None, Some(base)) => Some((
                ENDPOINT,
                format!("{}/v1/traces", base.trim_end_matches('/')),
            )),
            (None, None) => None,
        };
        let Some((endpoint_var, endpoint)) = endpoint else {
            return Ok(None);
        };
        match endpoint.parse::<hyper::Uri>() {
            Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some() => {}
            _ => bad(
                endpoint_var,
                &get(endpoint_var).unwrap_or_default(),
                ENDPOINT_FORM,
            ),
        }

        let protocol_var = if get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").is_some() {
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
        } else {
            "OTEL_EXPORTER_OTLP_PROTOCOL"
        };
        let protocol = match get(protocol_var).as_deref() {
            None | Some("http/protobuf") => Protocol::HttpProtobuf,
            Some("http/json") => Protocol::HttpJson,
            Some(other) => {
                bad(
                    protocol_var,
                    other,
                    "http/protobuf or http/json (gRPC is not built in)",
                );
                Protocol::HttpProtobuf
            }
        };

        let mut headers = HashMap::new();
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            if let Some(list) = get(name) {
                match parse_headers(&list) {
                    Some(parsed) => headers.extend(parsed),
                    None => bad(
                        name,
                        &list,
                        "key=value pairs separated by commas (values URL-encoded)",
                    ),
                }
            }
        }

        let mut millis = |name: &'static str, default: u64| -> Duration {
            match get(name) {
                None => Duration::from_millis(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) => Duration::from_millis(n),
                    Err(_) => {
                        bad(name, &v, "a whole number of milliseconds");
                        Duration::from_millis(default)
                    }
                },
            }
        };
        let timeout = match get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
            Some(_) => millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 10_000),
            None => millis("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000),
        };
        let schedule_delay = millis("OTEL_BSP_SCHEDULE_DELAY", 5_000);

        let mut count = |name: &'static str, default: usize| -> usize {
            match get(name) {
                None => default,
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        bad(name, &v, "a whole number, at least 1");
                        default
                    }
                },
            }
        };
        let max_queue_size = count("OTEL_BSP_MAX_QUEUE_SIZE", 2048);
        let max_export_batch_size =
            count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512).min(max_queue_size);

        let ratio = get("OTEL_TRACES_SAMPLER_ARG");
        let mut ratio = || match ratio.as_deref() {
            None => 1.0,
            Some(v) => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => r,
                _ => {
                    bad(
                        "OTEL_TRACES_SAMPLER_ARG",
                        v,
                        "a sampling ratio from 0 to 1 (e.g. 0.25)",
                    );
                    1.0
                }
            },
        };
        let sampler = match get("OTEL_TRACES_SAMPLER").as_deref() {
            None | Some("parentbased_always_on") => SamplerSetting::ParentBasedAlwaysOn,
            Some("always_on") => SamplerSetting::AlwaysOn,
            Some("always_off") => SamplerSetting::AlwaysOff,
            Some("traceidratio") => SamplerSetting::TraceIdRatio(ratio()),
            Some("parentbased_always_off") => SamplerSetting::ParentBasedAlwaysOff,
            Some("parentbased_traceidratio") => SamplerSetting::ParentBasedTraceIdRatio(ratio()),
            Some(other) => {
                let other = other.to_owned();
                errors.push(SettingError {
                    name: "OTEL_TRACES_SAMPLER",
                    value: other,
                    expected: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
                });
                SamplerSetting::ParentBasedAlwaysOn
            }
        };

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Some(TraceSettings {
            endpoint,
            protocol,
            headers,
            timeout,
            service_name: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "dmr".to_owned()),
            sampler,
            schedule_delay,
            max_queue_size,
            max_export_batch_size,
        }))
    }
}

/// `k1=v1,k2=v2`, values percent-decoded; `None` when a pair has no `=` or an empty key.
fn parse_headers(list: &str) -> Option<Vec<(String, String)>> {
    list.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            Some((key.to_owned(), percent_decode(value.trim())?))
        })
        .collect()
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Option<TraceSettings>, Vec<SettingError>> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TraceSettings::from_lookup(|name| vars.get(name).cloned())
    }

    fn on(vars: &[(&str, &str)]) -> TraceSettings {
        parse(vars).unwrap().expect("export on")
    }

    fn refused(vars: &[(&str, &str)]) -> Vec<&'static str> {
        parse(vars)
            .unwrap_err()
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn off_without_an_endpoint_or_when_switched_off() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&[(ENDPOINT, "  ")]).unwrap(), None, "empty is unset");
        // Other OTel variables alone turn nothing on.
        assert_eq!(
            parse(&[("OTEL_SERVICE_NAME", "x"), ("OTEL_TRACES_SAMPLER", "bogus")]).unwrap(),
            None
        );
        let endpoint = (ENDPOINT, "http://127.0.0.1:4318");
        assert_eq!(
            parse(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]).unwrap(),
            None
        );
        assert_eq!(
            parse(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]).unwrap(),
            None
        );
        assert!(
            parse(&[endpoint, ("OTEL_SDK_DISABLED", "false")])
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_base_endpoint_gets_the_signal_path_and_the_signal_endpoint_is_kept() {
        let s = on(&[(ENDPOINT, "http://collector:4318/")]);
        assert_eq!(s.endpoint, "http://collector:4318/v1/traces");
        let s = on(&[(ENDPOINT, "http://collector:4318/otlp")]);
        assert_eq!(s.endpoint, "http://collector:4318/otlp/v1/traces");
        let s = on(&[
            (ENDPOINT, "http://collector:4318"),
            (TRACES_ENDPOINT, "http://other:9999/custom"),
        ]);
        assert_eq!(s.endpoint, "http://other:9999/custom");
    }

    #[test]
    fn defaults() {
        let s = on(&[(ENDPOINT, "http://127.0.0.1:4318")]);
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        assert_eq!(s.service_name, "dmr");
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.schedule_delay, Duration::from_secs(5));
        assert_eq!(s.sampler, SamplerSetting::ParentBasedAlwaysOn);
        assert_eq!((s.max_queue_size, s.max_export_batch_size), (2048, 512));
        assert!(s.headers.is_empty());
    }

    #[test]
    fn reads_every_standard_variable() {
        let s = on(&[
            (ENDPOINT, "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x-team=core"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=registry"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_SERVICE_NAME", "dmr-eu"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
        ]);
        assert_eq!(s.protocol, Protocol::HttpJson);
        assert_eq!(s.headers["api-key"], "a b");
        assert_eq!(s.headers["x-team"], "registry", "the signal's own wins");
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.service_name, "dmr-eu");
        assert_eq!(s.sampler, SamplerSetting::ParentBasedTraceIdRatio(0.25));
        assert_eq!(s.schedule_delay, Duration::from_millis(100));
        assert_eq!(
            (s.max_queue_size, s.max_export_batch_size),
            (64, 64),
            "a batch fits the queue"
        );
        let s = on(&[
            (ENDPOINT, "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700"),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ]);
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        assert_eq!(s.timeout, Duration::from_millis(700));
        assert_eq!(s.sampler, SamplerSetting::AlwaysOff);
    }

    #[test]
    fn every_bad_value_is_reported_by_name() {
        let errors = refused(&[
            (ENDPOINT, "https://collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2"),
            ("OTEL_BSP_SCHEDULE_DELAY", "-1"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
        ]);
        for name in [
            ENDPOINT,
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_TRACES_SAMPLER_ARG",
            "OTEL_BSP_SCHEDULE_DELAY",
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "OTEL_TRACES_EXPORTER",
        ] {
            assert!(errors.contains(&name), "{name} not reported in {errors:?}");
        }
        assert_eq!(refused(&[(ENDPOINT, "not a url")]), [ENDPOINT]);
        assert_eq!(
            refused(&[(ENDPOINT, "http://a:1"), ("OTEL_TRACES_SAMPLER", "xray")]),
            ["OTEL_TRACES_SAMPLER"]
        );
        assert_eq!(
            refused(&[
                (ENDPOINT, "http://a:1"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "k=%zz")
            ]),
            ["OTEL_EXPORTER_OTLP_HEADERS"]
        );
    }
}
