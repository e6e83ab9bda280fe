//! Properties over generated stack definitions:
//! - any valid definition renders, every Ref/GetAtt/Sub/DependsOn in the
//!   template names something that exists, with no dependency cycle, and
//!   every resource passes CloudFormation's resource schema;
//! - hostile strings (quotes, newlines, `: `, `{{`, `!Ref`, separators) come
//!   out exactly as they went in and never change the template's structure;
//! - YAML output reads back as the same template.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use stackctl::check;
use stackctl::load::resolve_text;
use stackctl::plan::{plan, CodeLocations};
use stackctl::render::{node_to_json, to_yaml, Renderer, TemplateSet};
use stackctl::source::parse_yaml;

fn names(prefix: &'static str, max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[a-z]{1,6}", 0..=max)
        .prop_map(move |s| s.into_iter().map(|n| format!("{prefix}{n}")).collect())
}

/// Text that tries hard to break out of its place in a template.
fn hostile() -> impl Strategy<Value = String> {
    let specials = prop_oneof![
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\n".to_string()),
        Just(": ".to_string()),
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("!Ref Foo".to_string()),
        Just("# not a comment".to_string()),
        Just("- item".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{85}".to_string()),
        Just("\t".to_string()),
        Just("&anchor *alias".to_string()),
        Just("{{json x}}".to_string()),
        Just("\\".to_string()),
        Just("---".to_string()),
        Just("ü🎸".to_string()),
        Just("${x}".to_string()),
        Just("${!y}".to_string()),
    ];
    // Non-empty: an empty optional text is omitted from the template, which means the same.
    proptest::collection::vec(
        prop_oneof![specials, "[ -~]{0,8}".prop_map(String::from)],
        1..8,
    )
    .prop_map(|parts| parts.concat())
    .prop_filter("non-empty", |s| !s.is_empty())
}

/// A tag value every AWS resource accepts: letters (any script), digits,
/// spaces and `_ . : / = + - @`, at least one character.
fn tag_value() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[A-Za-z0-9 _.:/=+@-]{1,8}".prop_map(String::from),
            Just("ü".to_string()),
            Just("東京".to_string())
        ],
        1..4,
    )
    .prop_map(|parts| parts.concat())
}

/// A random definition that is valid by construction, as JSON (which is YAML).
fn valid_stack() -> impl Strategy<Value = Value> {
    (names("t", 3), names("b", 2), names("f", 4), names("q", 2), any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u32>(), 32), hostile(), tag_value())
        .prop_map(|(tables, buckets, mut functions, topics, pool, rest, seeds, description, tag)| {
            if functions.is_empty() {
                functions.push("fmain".into());
            }
            let pick = |i: usize, from: &[String]| from[seeds[i % seeds.len()] as usize % from.len()].clone();
            let mut stack = json!({"name": "prop", "description": description, "tags": {"owner": tag}});
            let mut t = Map::new();
            for (i, name) in tables.iter().enumerate() {
                let s = seeds[i] as usize;
                let mut table = json!({"partition_key": {"name": "pk", "type": (["S", "N", "B"][s % 3])}});
                if s.is_multiple_of(2) {
                    table["sort_key"] = json!({"name": "sk", "type": "S"});
                }
                if s.is_multiple_of(3) {
                    table["indexes"] = json!({"by-gk": {"partition_key": {"name": "gk", "type": "S"}, "sort_key": {"name": "pk", "type": table["partition_key"]["type"]}}});
                }
                if s.is_multiple_of(4) {
                    table["ttl_attribute"] = json!("expires");
                    table["stream"] = json!("new_image");
                }
                if s.is_multiple_of(5) {
                    table["billing"] = json!({"provisioned": {"read": 1 + s % 9, "write": 1 + s % 7}});
                }
                t.insert(name.clone(), table);
            }
            stack["tables"] = Value::Object(t);
            let mut b = Map::new();
            for (i, name) in buckets.iter().enumerate() {
                let mut bucket = json!({"lifecycle": [{"prefix": "tmp/", "expire_after_days": 1 + seeds[i] % 30}]});
                if seeds[i] % 2 == 0 {
                    bucket["notifications"] = json!([{"function": pick(i, &functions), "prefix": "in/"}]);
                }
                b.insert(name.clone(), bucket);
            }
            stack["buckets"] = Value::Object(b);
            let mut f = Map::new();
            for (i, name) in functions.iter().enumerate() {
                let s = seeds[i + 7] as usize;
                let mut env = json!({"PLAIN": "value with : and { braces }"});
                let mut access = json!({});
                if !tables.is_empty() {
                    let table = pick(i + 1, &tables);
                    env["TABLE"] = json!(format!("${{tables.{table}.name}}"));
                    access["tables"] = json!({table: (["read", "write", "read_write"][s % 3])});
                }
                if !buckets.is_empty() {
                    let bucket = pick(i + 2, &buckets);
                    env["BUCKET"] = json!(format!("${{buckets.{bucket}.arn}}"));
                    access["buckets"] = if s.is_multiple_of(2) { json!({bucket: "read"}) } else { json!({bucket: {"level": "read_write", "prefix": "data/"}}) };
                }
                env["OTHER"] = json!(format!("${{functions.{}.arn}}", pick(i + 3, &functions)));
                if !topics.is_empty() {
                    access["publish"] = json!([pick(i, &topics)]);
                }
                access["invoke"] = json!([pick(i + 4, &functions)]);
                let mut function = json!({"crate": format!("crate-{name}"), "memory": 128 + (s % 80) * 128, "timeout": 1 + s % 29, "environment": env, "access": access});
                if s.is_multiple_of(7) {
                    function["reserved_concurrency"] = json!(5);
                    function["provisioned_concurrency"] = json!(2);
                }
                f.insert(name.clone(), function);
            }
            stack["functions"] = Value::Object(f);
            let mut q = Map::new();
            for name in &topics {
                q.insert(name.clone(), json!({"email": ["ops@example.com"]}));
            }
            stack["topics"] = Value::Object(q);
            if pool {
                stack["user_pool"] = json!({"clients": {"web": {"auth_flows": ["user_srp"]}}});
            }
            let mut routes = Map::new();
            for (i, name) in functions.iter().enumerate() {
                let route = if pool { json!(name) } else { json!({"function": name, "public": true}) };
                routes.insert(format!("GET /r{i}/{{id}}"), route.clone());
                routes.insert(format!("POST /r{i}"), route);
            }
            let mut api = json!({"type": if rest { "rest" } else { "http" }, "routes": routes});
            if pool {
                api["authorizers"] = json!({"cognito": {"type": "cognito"}});
                api["default_authorizer"] = json!("cognito");
            }
            stack["apis"] = json!({"main": api});
            let mut alarms = Map::new();
            if !topics.is_empty() {
                alarms.insert("errors".into(), json!({"type": "function_error_rate", "function": functions[0], "threshold": 1}));
                alarms.insert("api".into(), json!({"type": "api_5xx_rate", "api": "main", "threshold": 0.5}));
                if let Some(table) = tables.first() {
                    alarms.insert("throttles".into(), json!({"type": "table_throttles", "table": table, "threshold": 0}));
                }
            }
            stack["alarms"] = Value::Object(alarms);
            stack["schedule_groups"] = json!({"later": {"targets": [functions[0]]}});
            stack["schedules"] = json!({"tick": {"function": pick(5, &functions), "expression": "rate(5 minutes)"}});
            stack["dashboard"] = json!(true);
            if let Some(bucket) = buckets.first() {
                stack["distributions"] = json!({"cdn": {"origin": bucket, "spa": true}});
            }
            stack
        })
}

fn render(stack: &Value) -> Value {
    let text = serde_json::to_string_pretty(stack).unwrap();
    let (file, resolved) = resolve_text("generated.yaml", &text, "prod");
    let errors: String = resolved
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(&file))
        .collect();
    assert!(
        errors.is_empty(),
        "a valid definition was rejected:\n{errors}\n{text}"
    );
    let def = resolved.valid_def().expect("a valid definition");
    let p = plan(def, &CodeLocations::default());
    Renderer::new(&TemplateSet::builtin())
        .unwrap()
        .render(&p)
        .expect("renders")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_reference_in_a_rendered_template_resolves(stack in valid_stack()) {
        let template = render(&stack);
        let problems = check::check(&template);
        prop_assert!(problems.is_empty(), "{problems:#?}");
        // Every resource is one CloudFormation's schemas and rules accept.
        let refused: Vec<String> = check::check_resources(&template).into_iter().map(|f| f.diagnostic.message).collect();
        prop_assert!(refused.is_empty(), "{refused:#?}");
        prop_assert!(!check::references(&template).is_empty());
    }

    #[test]
    fn hostile_strings_come_through_unchanged(stack in valid_stack(), text in hostile()) {
        let mut stack = stack;
        let first = stack["functions"].as_object().unwrap().keys().next().unwrap().clone();
        stack["functions"][&first]["description"] = json!(text.clone());
        stack["functions"][&first]["environment"]["HOSTILE"] = json!(text.replace("${", "$${"));
        let template = render(&stack);
        let id = format!("{}Function", stackctl::naming::pascal(&first));
        let props = &template["Resources"][&id]["Properties"];
        prop_assert_eq!(&props["Description"], &json!(text.clone()));
        let hostile_env = &props["Environment"]["Variables"]["HOSTILE"];
        // Escaped `$${` is literal text: no `Fn::Sub`, the value exactly as meant.
        prop_assert_eq!(hostile_env, &json!(text.clone()));
        prop_assert_eq!(&template["Description"], &stack["description"]);
        // The structure is intact: every resource has a type.
        for (id, r) in template["Resources"].as_object().unwrap() {
            prop_assert!(r["Type"].as_str().is_some_and(|t| t.starts_with("AWS::")), "{id} lost its type");
        }
    }

    #[test]
    fn yaml_output_reads_back_as_the_same_template(stack in valid_stack()) {
        let template = render(&stack);
        let back = node_to_json(&parse_yaml(&to_yaml(&template)).expect("our YAML parses"));
        prop_assert_eq!(back, template);
    }
}
