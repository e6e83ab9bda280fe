//! Handlebars templates to a CloudFormation template.
//!
//! Each fragment of the plan renders one template in strict mode; the text is
//! parsed back at once, so a broken template fails here naming the template,
//! never at deploy time. Values reach the text only through the `json`
//! helper (or the escape function, which does the same), so a stack-file
//! string can never change the structure of the output.

mod emit;
mod templates;

pub use emit::to_yaml;
pub use templates::{TemplateSet, BUILTIN_TEMPLATES};

use crate::plan::Plan;
use crate::source::{parse_yaml, Node, NodeValue};
use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{template}` failed to render: {message}")]
    Template { template: String, message: String },
    #[error("template `{template}` did not produce valid YAML: {message}\n--- rendered text ---\n{text}")]
    Yaml { template: String, message: String, text: String },
    #[error("template `{template}` must render a mapping of logical ids to resources")]
    NotAMapping { template: String },
    #[error("logical id `{id}` is produced twice (by `{first}` and `{second}`)")]
    DuplicateId { id: String, first: String, second: String },
    #[error("there is no built-in template `{name}` to override")]
    UnknownOverride { name: String, hint: String },
    #[error("template `{name}` does not compile: {message}")]
    Compile { name: String, message: String },
}

/// A compiled set of templates, ready to render plans.
pub struct Renderer {
    registry: Handlebars<'static>,
}

impl Renderer {
    pub fn new(set: &TemplateSet) -> Result<Self, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(|text| json_scalar(&Value::String(text.to_string())));
        registry.register_helper("json", Box::new(json_helper));
        for (name, text) in set.iter() {
            registry.register_template_string(name, text).map_err(|e| RenderError::Compile { name: name.to_string(), message: e.to_string() })?;
        }
        Ok(Renderer { registry })
    }

    /// Renders the whole template of a plan.
    pub fn render(&self, plan: &Plan) -> Result<Value, RenderError> {
        let mut resources = Map::new();
        let mut origin: std::collections::HashMap<String, &'static str> = std::collections::HashMap::new();
        for fragment in &plan.fragments {
            let mut context = fragment.view.clone();
            context["stack"] = plan.globals.clone();
            let text = self
                .registry
                .render(fragment.template, &context)
                .map_err(|e| RenderError::Template { template: fragment.template.to_string(), message: e.to_string() })?;
            let node = parse_yaml(&text).map_err(|problems| RenderError::Yaml {
                template: fragment.template.to_string(),
                message: problems.iter().map(|d| format!("{} at {}", d.message, d.loc().map(|l| l.to_string()).unwrap_or_default())).collect::<Vec<_>>().join("; "),
                text: text.clone(),
            })?;
            let Value::Object(entries) = node_to_json(&node) else {
                return Err(RenderError::NotAMapping { template: fragment.template.to_string() });
            };
            for (id, resource) in entries {
                if let Some(first) = origin.insert(id.clone(), fragment.template) {
                    return Err(RenderError::DuplicateId { id, first: first.to_string(), second: fragment.template.to_string() });
                }
                resources.insert(id, resource);
            }
        }
        let outputs: Map<String, Value> = plan
            .outputs
            .iter()
            .map(|o| (o.id.clone(), json!({"Description": o.description, "Value": o.value})))
            .collect();
        let mut template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": plan.description,
            "Metadata": {"stackctl": {"app": plan.globals["app"], "env": plan.globals["env"]}},
            "Resources": resources,
        });
        if !outputs.is_empty() {
            template["Outputs"] = Value::Object(outputs);
        }
        Ok(template)
    }
}

/// Writes a value as JSON that is also a valid YAML flow scalar or
/// collection. Control and line-separator characters are escaped, so the
/// value always stays on one line and inside its quotes.
pub fn json_scalar(value: &Value) -> String {
    let text = serde_json::to_string(value).expect("JSON values serialize");
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => out.push_str(&format!("\\u{:04x}", ch as u32)),
            c if c.is_control() && c != '\n' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn json_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let param = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    // Strict mode does not cover helper parameters; a name the view lacks
    // must fail here rather than render as `null`.
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    out.write(&json_scalar(param.value()))?;
    Ok(())
}

/// A rendered node as JSON: plain scalars by the YAML core schema, quoted
/// ones as strings.
pub fn node_to_json(node: &Node) -> Value {
    match &node.value {
        _ if node.is_null() => Value::Null,
        NodeValue::Scalar { text, plain: false } => Value::String(text.clone()),
        NodeValue::Scalar { text, plain: true } => match text.as_str() {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            t => {
                if let Ok(i) = t.parse::<i64>() {
                    json!(i)
                } else if let Some(f) = t.parse::<f64>().ok().filter(|f| f.is_finite() && t.chars().any(|c| c.is_ascii_digit())) {
                    json!(f)
                } else {
                    Value::String(t.to_string())
                }
            }
        },
        NodeValue::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeValue::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (k.name.clone(), node_to_json(v))).collect()),
    }
}
