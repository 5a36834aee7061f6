//! The monitoring files under `deploy/`, checked as Prometheus and Grafana would read
//! them: the alert rules and their unit tests through promtool, the scrape configuration
//! through promtool, and the Grafana dashboard's shape; every query of either may name only
//! the metrics docs/metrics.md lists, so renaming a metric fails here until they follow.
//! (No `dmr` process: these live in this binary to share its one link.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::metrics_doc::{self, Kind};
use crate::support::promql;
use crate::support::promtool::{self, repo_file};

const DATASOURCE: &str = "${DS_PROMETHEUS}";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The values of every `key:` in a YAML file: plain or quoted on the key's line, or a block
/// scalar (`|`, `>-`, ...) on the lines indented below it. Enough YAML for our own files.
fn yaml_values(text: &str, key: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut values = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let body = line.trim_start().trim_start_matches("- ");
        let Some(value) = body.strip_prefix(key).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let indent = line.len() - line.trim_start().len();
            let block: Vec<&str> = lines[n + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                .map(|l| l.trim())
                .collect();
            values.push(block.join(" ").trim().to_owned());
        } else {
            values.push(value.trim_matches(|c| c == '\'' || c == '"').to_owned());
        }
    }
    values
}

/// The selectors of `exprs` whose metric docs/metrics.md does not list.
fn undocumented<'a>(
    documented: &BTreeMap<String, Kind>,
    exprs: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    exprs
        .into_iter()
        .flat_map(|expr| {
            promql::selectors(expr)
                .into_iter()
                .filter(|s| !metrics_doc::readable(documented, &s.metric))
                .map(move |s| format!("{} (in {expr})", s.metric))
        })
        .collect()
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = repo_file("deploy/prometheus");
    promtool::check(&dir, &["check", "rules", "alerts.yml"], None);
    promtool::check(&dir, &["test", "rules", "alerts.test.yml"], None);
}

#[test]
fn the_scrape_config_passes_promtool_check_config() {
    // promtool checks that the bearer token file exists: a copy beside a key file, as an
    // operator installs it.
    let dir = tempfile::tempdir().unwrap();
    for file in ["prometheus.yml", "alerts.yml"] {
        std::fs::copy(
            repo_file(&format!("deploy/prometheus/{file}")),
            dir.path().join(file),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("dmr-admin-key"),
        "an-admin-key-of-at-least-32-characters\n",
    )
    .unwrap();
    promtool::check(dir.path(), &["check", "config", "prometheus.yml"], None);

    // DmrInstanceDown reads `up{job="dmr"}`: the job the configuration names.
    let config = read("deploy/prometheus/prometheus.yml");
    assert_eq!(yaml_values(&config, "job_name"), ["dmr"]);
    assert_eq!(yaml_values(&config, "metrics_path"), ["/metrics"]);
    assert!(read("deploy/prometheus/alerts.yml").contains(r#"up{job="dmr"}"#));
}

#[test]
fn alert_rules_and_their_tests_read_only_documented_metrics() {
    let documented = metrics_doc::documented();
    let rules = read("deploy/prometheus/alerts.yml");
    let exprs = yaml_values(&rules, "expr");
    assert_eq!(
        exprs.len(),
        yaml_values(&rules, "alert").len(),
        "one expr per alert"
    );
    assert_eq!(
        undocumented(&documented, exprs.iter().map(String::as_str)),
        Vec::<String>::new()
    );

    // The unit tests' synthetic series, so that they test the series /metrics has.
    let series = yaml_values(&read("deploy/prometheus/alerts.test.yml"), "series");
    assert!(!series.is_empty());
    assert_eq!(
        undocumented(&documented, series.iter().map(String::as_str)),
        Vec::<String>::new()
    );
}

fn dashboard() -> Value {
    serde_json::from_str(&read("deploy/grafana/dmr.json")).expect("deploy/grafana/dmr.json is JSON")
}

/// The panels that draw something (rows only group them).
fn drawing_panels(dashboard: &Value) -> Vec<&Value> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|p| p["type"] != "row")
        .collect()
}

fn queries(dashboard: &Value) -> Vec<(String, &str)> {
    drawing_panels(dashboard)
        .into_iter()
        .flat_map(|panel| {
            panel["targets"].as_array().unwrap().iter().map(move |t| {
                (
                    format!("{} {}", panel["title"], t["refId"]),
                    t["expr"].as_str().unwrap_or_default(),
                )
            })
        })
        .collect()
}

/// Grafana's `label_values(SELECTOR, LABEL)`: the selector.
fn label_values_selector(query: &str) -> &str {
    query
        .strip_prefix("label_values(")
        .and_then(|q| q.strip_suffix(')'))
        .and_then(|q| q.rsplit_once(','))
        .map(|(selector, _label)| selector)
        .unwrap_or_else(|| panic!("a variable query of another form: {query}"))
}

#[test]
fn the_dashboard_is_an_importable_grafana_dashboard() {
    let dashboard = dashboard();
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert!(
        inputs.iter().any(|i| i["name"] == "DS_PROMETHEUS"
            && i["type"] == "datasource"
            && i["pluginId"] == "prometheus"),
        "a Prometheus datasource input named DS_PROMETHEUS: {inputs:?}"
    );
    let schema = dashboard["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    assert!(
        dashboard["id"].is_null(),
        "an exported dashboard has no id: Grafana assigns it"
    );

    let variables: BTreeMap<&str, &Value> = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v))
        .collect();
    for name in ["job", "instance"] {
        let variable = variables
            .get(name)
            .unwrap_or_else(|| panic!("a ${name} variable"));
        assert_eq!(variable["type"], "query", "${name}");
        assert_eq!(variable["datasource"]["uid"], DATASOURCE, "${name}");
    }

    let mut ids = BTreeSet::new();
    let mut cells: Vec<(String, [u64; 4])> = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().expect("a panel title");
        assert!(
            ids.insert(panel["id"].as_u64().expect("a panel id")),
            "{title}: id used twice"
        );
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| {
            grid[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{title}: gridPos.{k}"))
        });
        assert!(
            w > 0 && h > 0 && x + w <= 24,
            "{title}: gridPos {grid} (24 columns)"
        );
        for (other, [ox, oy, ow, oh]) in &cells {
            let overlap = x < ox + ow && *ox < x + w && y < oy + oh && *oy < y + h;
            assert!(!overlap, "{title} overlaps {other}");
        }
        cells.push((title.to_owned(), [x, y, w, h]));
    }

    for panel in drawing_panels(&dashboard) {
        let title = &panel["title"];
        assert_eq!(panel["datasource"]["uid"], DATASOURCE, "{title}");
        let targets = panel["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("{title}: targets"));
        assert!(!targets.is_empty(), "{title}: no query");
        let mut refs = BTreeSet::new();
        for target in targets {
            assert_eq!(target["datasource"]["uid"], DATASOURCE, "{title}");
            assert!(
                refs.insert(target["refId"].as_str().unwrap()),
                "{title}: refId used twice"
            );
            assert!(
                target["expr"]
                    .as_str()
                    .is_some_and(|e| !e.trim().is_empty()),
                "{title}: no expr"
            );
        }
    }
}

#[test]
fn the_dashboard_reads_only_documented_metrics_of_the_chosen_job_and_instances() {
    let documented = metrics_doc::documented();
    let dashboard = dashboard();
    let queries = queries(&dashboard);
    assert_eq!(
        undocumented(&documented, queries.iter().map(|(_, expr)| *expr)),
        Vec::<String>::new()
    );
    for (panel, expr) in &queries {
        let selectors = promql::selectors(expr);
        assert!(!selectors.is_empty(), "{panel}: reads no metric");
        for selector in selectors {
            for matcher in [r#"job=~"$job""#, r#"instance=~"$instance""#] {
                assert!(
                    selector.matchers.contains(matcher),
                    "{panel}: {} without {matcher}: {expr}",
                    selector.metric
                );
            }
        }
    }

    let variable_queries: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| label_values_selector(v["query"].as_str().unwrap()))
        .collect();
    assert_eq!(
        undocumented(&documented, variable_queries),
        Vec::<String>::new()
    );
}

#[test]
fn the_dashboard_queries_are_valid_promql() {
    // Each query as a recording rule, Grafana's variables given values, for promtool to
    // parse.
    let dashboard = dashboard();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (n, (panel, expr)) in queries(&dashboard).into_iter().enumerate() {
        let expr = expr
            .replace("$__rate_interval", "1m")
            .replace("$job", "dmr")
            .replace("$instance", ".*");
        assert!(
            !expr.contains('$'),
            "{panel}: a variable this test does not know: {expr}"
        );
        let quoted = serde_json::to_string(&expr).unwrap();
        rules.push_str(&format!(
            "      - record: dashboard:query_{n}\n        expr: {quoted}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dashboard.yml"), rules).unwrap();
    promtool::check(dir.path(), &["check", "rules", "dashboard.yml"], None);
}
