//! What `status` watches in one stack, read from its rendered template and
//! named as in the stack file (function `payments`, api `main`), with the
//! physical ids of the deployed stack; the CloudWatch queries that measure
//! it over one window; and the figures summarised from their answers. No I/O.

use crate::engine::cloudwatch::{MetricDimension, MetricQuery, MetricSeries};
use crate::kinds::{Kind, ALARM, API, FUNCTION};
use crate::local::template::{Deployed, Resolver};
use crate::model::StackDef;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One resource of the stack, by its stack-file name and its physical id
/// (`None` when the deployed stack does not hold it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub name: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
}

/// How API Gateway names an API's metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiMetrics {
    /// HTTP API: `4xx`, `5xx` by `ApiId` (every stage).
    Http { api_id: String },
    /// REST API: `4XXError`, `5XXError` by `ApiName` and `Stage`.
    Rest { api_name: String, stage: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedApi {
    pub name: String,
    pub logical_id: String,
    /// `None` when the deployed stack does not tell the API's id or name.
    pub metrics: Option<ApiMetrics>,
}

/// Everything of one stack that has a state or metrics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    pub functions: Vec<Watched>,
    pub apis: Vec<WatchedApi>,
    pub alarms: Vec<Watched>,
}

/// The stack-file name of the resource `logical_id` of `kind`, else the id.
fn name_of<'a>(kind: &Kind, names: impl Iterator<Item = &'a String>, logical_id: &str) -> String {
    names
        .into_iter()
        .find(|name| kind.logical_id(name) == logical_id)
        .cloned()
        .unwrap_or_else(|| logical_id.to_string())
}

fn resources(template: &Value) -> impl Iterator<Item = (&String, &str, &Value)> + '_ {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
        .iter()
        .map(|(id, r)| {
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            (id, kind, r.get("Properties").unwrap_or(&Value::Null))
        })
}

/// The functions, APIs and alarms of `template`, in template order.
pub fn inventory(template: &Value, def: &StackDef, deployed: &Deployed) -> Inventory {
    let resolver = Resolver::new(template, deployed);
    let physical = |id: &str| deployed.physical_ids.get(id).cloned();
    let mut found = Inventory::default();
    for (id, kind, properties) in resources(template) {
        match kind {
            "AWS::Lambda::Function" => found.functions.push(Watched {
                name: name_of(&FUNCTION, def.functions.keys(), id),
                logical_id: id.clone(),
                physical_id: physical(id),
            }),
            "AWS::CloudWatch::Alarm" => found.alarms.push(Watched {
                name: name_of(&ALARM, def.alarms.keys(), id),
                logical_id: id.clone(),
                physical_id: physical(id),
            }),
            "AWS::ApiGatewayV2::Api" => found.apis.push(WatchedApi {
                name: name_of(&API, def.apis.keys(), id),
                logical_id: id.clone(),
                metrics: physical(id).map(|api_id| ApiMetrics::Http { api_id }),
            }),
            "AWS::ApiGateway::RestApi" => found.apis.push(WatchedApi {
                name: name_of(&API, def.apis.keys(), id),
                logical_id: id.clone(),
                metrics: rest_api_metrics(template, &resolver, id, properties)
                    .filter(|_| physical(id).is_some()),
            }),
            _ => {}
        }
    }
    found
}

/// A REST API's metric names: its `Name` and the `StageName` of the stage
/// that serves it (a REST API's metrics carry both).
fn rest_api_metrics(
    template: &Value,
    resolver: &Resolver<'_>,
    api: &str,
    properties: &Value,
) -> Option<ApiMetrics> {
    let api_name = resolver.string(properties.get("Name")?).ok()?;
    let stage = resources(template).find_map(|(_, kind, p)| {
        let serves_api = p.get("RestApiId") == Some(&serde_json::json!({ "Ref": api }));
        (kind == "AWS::ApiGateway::Stage" && serves_api)
            .then(|| p.get("StageName").and_then(|s| resolver.string(s).ok()))
            .flatten()
    })?;
    Some(ApiMetrics::Rest { api_name, stage })
}

/// The stack's outputs that are URLs (its endpoints), by output name.
pub fn endpoints(outputs: &[(String, String)]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = outputs
        .iter()
        .filter(|(_, v)| v.starts_with("https://") || v.starts_with("http://"))
        .cloned()
        .collect();
    found.sort();
    found
}

/// The Lambda metrics `status` shows per function, with the statistic of each.
const FUNCTION_METRICS: [(&str, &str, &str); 4] = [
    ("invocations", "Invocations", "Sum"),
    ("errors", "Errors", "Sum"),
    ("throttles", "Throttles", "Sum"),
    ("duration", "Duration", "p99"),
];

fn query_id(prefix: char, index: usize, what: &str) -> String {
    format!("{prefix}{index}_{what}")
}

/// The GetMetricData queries for `inventory` over one `period`: for each
/// deployed function its invocations, errors and throttles (Sum) and p99
/// duration; for each API its 4xx and 5xx answers (Sum).
pub fn metric_queries(inventory: &Inventory, period: i32) -> Vec<MetricQuery> {
    let mut queries = Vec::new();
    for (i, f) in inventory.functions.iter().enumerate() {
        let Some(function_name) = &f.physical_id else {
            continue;
        };
        for (what, metric_name, stat) in FUNCTION_METRICS {
            queries.push(MetricQuery {
                id: query_id('f', i, what),
                namespace: "AWS/Lambda".into(),
                metric_name: metric_name.into(),
                dimensions: vec![MetricDimension::new("FunctionName", function_name)],
                stat: stat.into(),
                period,
            });
        }
    }
    for (i, api) in inventory.apis.iter().enumerate() {
        let (names, dimensions) = match &api.metrics {
            None => continue,
            Some(ApiMetrics::Http { api_id }) => {
                (["4xx", "5xx"], vec![MetricDimension::new("ApiId", api_id)])
            }
            Some(ApiMetrics::Rest { api_name, stage }) => (
                ["4XXError", "5XXError"],
                vec![
                    MetricDimension::new("ApiName", api_name),
                    MetricDimension::new("Stage", stage),
                ],
            ),
        };
        for (what, metric_name) in ["4xx", "5xx"].into_iter().zip(names) {
            queries.push(MetricQuery {
                id: query_id('a', i, what),
                namespace: "AWS/ApiGateway".into(),
                metric_name: metric_name.into(),
                dimensions: dimensions.clone(),
                stat: "Sum".into(),
                period,
            });
        }
    }
    queries
}

/// One function's figures over the window; `None` where it is not deployed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionFigures {
    pub name: String,
    pub function_name: Option<String>,
    pub invocations: Option<f64>,
    pub errors: Option<f64>,
    pub throttles: Option<f64>,
    /// `None` also when it ran not at all in the window.
    pub p99_duration_ms: Option<f64>,
}

/// One API's answers over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiFigures {
    pub name: String,
    /// `http` or `rest`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub api_id: Option<String>,
    pub api_name: Option<String>,
    pub stage: Option<String>,
    #[serde(rename = "4xx")]
    pub client_errors: Option<f64>,
    #[serde(rename = "5xx")]
    pub server_errors: Option<f64>,
}

/// A count over the window: the sum of its datapoints (none: zero, as
/// CloudWatch publishes nothing for a quiet period).
fn total(series: &BTreeMap<String, MetricSeries>, id: &str) -> Option<f64> {
    // Folded from +0.0: an empty f64 sum is -0.0, which would print as `-0`.
    series
        .get(id)
        .map(|s| s.values.iter().fold(0.0, |sum, v| sum + v))
}

/// A percentile over the window: the one datapoint's value; when the
/// window came back split in two periods, the higher (a bound, never an
/// understatement).
fn worst(series: &BTreeMap<String, MetricSeries>, id: &str) -> Option<f64> {
    series.get(id)?.values.iter().copied().reduce(f64::max)
}

/// Each function's and API's figures from GetMetricData's answers to
/// [`metric_queries`].
pub fn summarise(
    inventory: &Inventory,
    series: &BTreeMap<String, MetricSeries>,
) -> (Vec<FunctionFigures>, Vec<ApiFigures>) {
    let functions = inventory
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| FunctionFigures {
            name: f.name.clone(),
            function_name: f.physical_id.clone(),
            invocations: total(series, &query_id('f', i, "invocations")),
            errors: total(series, &query_id('f', i, "errors")),
            throttles: total(series, &query_id('f', i, "throttles")),
            p99_duration_ms: worst(series, &query_id('f', i, "duration")),
        })
        .collect();
    let apis = inventory
        .apis
        .iter()
        .enumerate()
        .map(|(i, api)| {
            let (kind, api_id, api_name, stage) = match &api.metrics {
                Some(ApiMetrics::Http { api_id }) => ("http", Some(api_id.clone()), None, None),
                Some(ApiMetrics::Rest { api_name, stage }) => {
                    ("rest", None, Some(api_name.clone()), Some(stage.clone()))
                }
                None => ("unknown", None, None, None),
            };
            ApiFigures {
                name: api.name.clone(),
                kind,
                api_id,
                api_name,
                stage,
                client_errors: total(series, &query_id('a', i, "4xx")),
                server_errors: total(series, &query_id('a', i, "5xx")),
            }
        })
        .collect();
    (functions, apis)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::load::StackSource;
    use crate::pipeline::{render_environment, Outcome};
    use crate::render::{Renderer, TemplateSet};

    /// A seed stack rendered for `dev`, deployed with `phys-{logical id}`
    /// for every resource but those in `missing`.
    fn seed(stack: &str, missing: &[&str]) -> (Value, StackDef, Deployed) {
        let name = format!("stacks/{stack}.yaml");
        let text = std::fs::read_to_string(&name).expect("stack file");
        let source = StackSource::parse(crate::source::SourceFile { name, text })
            .unwrap_or_else(|(_, d)| panic!("{stack}: {d:?}"));
        let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates");
        let template = match render_environment(&source, "dev", &renderer, &Default::default())
            .expect("renders")
        {
            Outcome::Rendered { template, .. } => template,
            Outcome::Invalid(d) => panic!("{stack} is invalid: {d:?}"),
        };
        let def = StackDef::clone(source.resolve("dev").valid_def().expect("valid"));
        let physical_ids = resources(&template)
            .filter(|(id, _, _)| !missing.contains(&id.as_str()))
            .map(|(id, _, _)| (id.clone(), format!("phys-{id}")))
            .collect();
        let deployed = Deployed {
            stack_name: format!("{stack}-dev"),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            physical_ids,
            ..Deployed::default()
        };
        (template, def, deployed)
    }

    fn sorted<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        let mut v: Vec<&str> = items.collect();
        v.sort();
        v
    }

    #[test]
    fn resources_read_as_named_in_the_stack_file_with_their_physical_ids() {
        let (template, def, deployed) = seed("guitar-collection", &["UserFunction"]);
        let found = inventory(&template, &def, &deployed);
        assert_eq!(
            sorted(found.functions.iter().map(|f| f.name.as_str())),
            ["auth", "guitars", "images", "user"]
        );
        let user = found.functions.iter().find(|f| f.name == "user").unwrap();
        assert_eq!(user.physical_id, None, "not in the deployed stack");
        let guitars = found
            .functions
            .iter()
            .find(|f| f.name == "guitars")
            .unwrap();
        assert_eq!(guitars.physical_id.as_deref(), Some("phys-GuitarsFunction"));
        assert_eq!(
            sorted(found.alarms.iter().map(|a| a.name.as_str())),
            [
                "api-5xx-rate",
                "auth-error-rate",
                "guitars-error-rate",
                "guitars-throttles",
                "images-error-rate",
                "user-error-rate",
                "users-throttles"
            ]
        );
        assert_eq!(found.apis.len(), 1);
        assert_eq!(found.apis[0].name, "main");
        assert_eq!(
            found.apis[0].metrics,
            Some(ApiMetrics::Http {
                api_id: "phys-MainApi".into()
            })
        );
    }

    #[test]
    fn a_rest_api_is_measured_by_its_name_and_stage() {
        let (template, def, deployed) = seed("fleet-console", &[]);
        let found = inventory(&template, &def, &deployed);
        assert_eq!(found.apis.len(), 1);
        assert_eq!(found.apis[0].name, "console");
        assert_eq!(
            found.apis[0].metrics,
            Some(ApiMetrics::Rest {
                api_name: "fleet-console-dev-console".into(),
                stage: "dev".into()
            })
        );
        let (template, def, deployed) = seed("fleet-console", &["ConsoleApi"]);
        assert_eq!(inventory(&template, &def, &deployed).apis[0].metrics, None);
    }

    fn watched(name: &str, physical_id: Option<&str>) -> Watched {
        Watched {
            name: name.into(),
            logical_id: format!("{name}Function"),
            physical_id: physical_id.map(String::from),
        }
    }

    fn shop() -> Inventory {
        Inventory {
            functions: vec![
                watched("payments", Some("shop-prod-payments")),
                watched("reports", None),
            ],
            apis: vec![
                WatchedApi {
                    name: "main".into(),
                    logical_id: "MainApi".into(),
                    metrics: Some(ApiMetrics::Http {
                        api_id: "a1b2c3".into(),
                    }),
                },
                WatchedApi {
                    name: "console".into(),
                    logical_id: "ConsoleApi".into(),
                    metrics: Some(ApiMetrics::Rest {
                        api_name: "shop-prod-console".into(),
                        stage: "prod".into(),
                    }),
                },
            ],
            alarms: Vec::new(),
        }
    }

    #[test]
    fn queries_name_each_metric_as_its_service_publishes_it() {
        let found = shop();
        let queries = metric_queries(&found, 3_600);
        let shown: Vec<(String, String, String, Vec<String>)> = queries
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    q.metric_name.clone(),
                    q.stat.clone(),
                    q.dimensions
                        .iter()
                        .map(|d| format!("{}={}", d.name, d.value))
                        .collect(),
                )
            })
            .collect();
        let s = |v: &str| v.to_string();
        let f = vec![s("FunctionName=shop-prod-payments")];
        let http = vec![s("ApiId=a1b2c3")];
        let rest = vec![s("ApiName=shop-prod-console"), s("Stage=prod")];
        assert_eq!(
            shown,
            [
                (s("f0_invocations"), s("Invocations"), s("Sum"), f.clone()),
                (s("f0_errors"), s("Errors"), s("Sum"), f.clone()),
                (s("f0_throttles"), s("Throttles"), s("Sum"), f.clone()),
                (s("f0_duration"), s("Duration"), s("p99"), f),
                (s("a0_4xx"), s("4xx"), s("Sum"), http.clone()),
                (s("a0_5xx"), s("5xx"), s("Sum"), http),
                (s("a1_4xx"), s("4XXError"), s("Sum"), rest.clone()),
                (s("a1_5xx"), s("5XXError"), s("Sum"), rest),
            ]
        );
        assert!(queries.iter().all(|q| q.period == 3_600));
        assert_eq!(queries[0].namespace, "AWS/Lambda");
        assert_eq!(queries[4].namespace, "AWS/ApiGateway");
    }

    #[test]
    fn figures_sum_counts_and_take_the_worst_percentile() {
        let found = shop();
        let queries = metric_queries(&found, 3_600);
        let mut series: BTreeMap<String, MetricSeries> = queries
            .iter()
            .map(|q| (q.id.clone(), MetricSeries::default()))
            .collect();
        let mut put = |id: &str, values: &[f64]| {
            series.get_mut(id).unwrap().values = values.to_vec();
        };
        put("f0_invocations", &[40.0, 2.0]);
        put("f0_errors", &[3.0]);
        put("f0_duration", &[120.5, 310.0]);
        put("a1_5xx", &[7.0]);
        let (functions, apis) = summarise(&found, &series);
        let payments = &functions[0];
        assert_eq!(payments.invocations, Some(42.0));
        assert_eq!(payments.errors, Some(3.0));
        assert_eq!(payments.throttles, Some(0.0), "no datapoint is no throttle");
        assert!(payments.throttles.unwrap().is_sign_positive(), "0, not -0");
        assert_eq!(payments.p99_duration_ms, Some(310.0));
        let reports = &functions[1];
        assert_eq!((reports.invocations, reports.p99_duration_ms), (None, None));
        assert_eq!((apis[0].kind, apis[0].client_errors), ("http", Some(0.0)));
        assert_eq!((apis[1].kind, apis[1].server_errors), ("rest", Some(7.0)));
    }

    #[test]
    fn endpoints_are_the_outputs_that_are_urls() {
        let outputs = vec![
            ("TableName".to_string(), "shop-prod-orders".to_string()),
            (
                "MainApiUrl".to_string(),
                "https://a1b2c3.execute-api.eu-west-1.amazonaws.com".to_string(),
            ),
            ("SiteUrl".to_string(), "http://localhost:8080".to_string()),
        ];
        let found = endpoints(&outputs);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["MainApiUrl", "SiteUrl"]);
    }
}
