//! The stages in order for one stack and environment: resolve, validate,
//! plan, render, check. Pure: callers bring text and templates.

use crate::check;
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::{Resolved, StackSource};
use crate::plan::{self, CodeLocations};
use crate::render::{Origins, RenderError, Renderer};
use serde_json::Value;

/// What came of rendering one environment of a stack.
#[derive(Debug)]
pub enum Outcome {
    /// A template, and any warnings found on the way.
    Rendered {
        template: Value,
        warnings: Vec<Diagnostic>,
        /// Where each resource came from, to point later findings (such as
        /// CloudFormation's own) at the stack file.
        places: Box<Places>,
    },
    /// Problems that stop rendering (errors, and warnings found with them).
    Invalid(Vec<Diagnostic>),
}

impl Outcome {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Outcome::Rendered { warnings, .. } => warnings,
            Outcome::Invalid(d) => d,
        }
    }
}

/// Runs every stage for `env`. A broken template is an `Err`; a broken stack
/// definition is `Ok(Outcome::Invalid)`.
pub fn render_environment(
    source: &StackSource,
    env: &str,
    renderer: &Renderer,
    code: &CodeLocations,
) -> Result<Outcome, RenderError> {
    let mut resolved = source.resolve_with(env, &code.available);
    let Some(def) = resolved.valid_def() else {
        return Ok(Outcome::Invalid(resolved.diagnostics));
    };
    let plan = plan::plan(def, code);
    let (template, origins) = renderer.render_traced(plan)?;
    // Findings point at the stack-file place that produced them where there is one.
    let located: Vec<Diagnostic> = check::check_resources(&template)
        .into_iter()
        .map(|finding| {
            let mut d = finding.diagnostic;
            if let Some(origin) = finding.resource.as_ref().and_then(|id| origins.get(id)) {
                d.anchor = resolved.anchor_for(origin, finding.value.as_ref());
            }
            d
        })
        .collect();
    let mut diagnostics = std::mem::take(&mut resolved.diagnostics);
    diagnostics.extend(check::check(&template));
    diagnostics.extend(located);
    diagnostics.extend(check::account_level_resources(&template));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(Outcome::Invalid(diagnostics));
    }
    let places = Box::new(Places {
        file: source.file.name.clone(),
        resolved,
        origins,
    });
    Ok(Outcome::Rendered {
        template,
        warnings: diagnostics,
        places,
    })
}

/// Where in the stack file each resource of a rendered template comes from
/// (by default: nowhere known).
#[derive(Debug, Clone, Default)]
pub struct Places {
    file: String,
    resolved: Resolved,
    origins: Origins,
}

impl Places {
    /// The stack-file entry resource `logical_id` comes from, as a dotted
    /// path (`tables.users`, `functions.payments`), for messages that speak
    /// in the stack file's terms.
    pub fn origin(&self, logical_id: &str) -> Option<String> {
        self.origins.get(logical_id).map(ToString::to_string)
    }

    /// `file:line:col` of what produced resource `logical_id` of `template`:
    /// the stack-file value at `property` (dotted, inside `Properties`) when
    /// the stack file wrote it, else the entry the resource comes from.
    pub fn of(&self, template: &Value, logical_id: &str, property: Option<&str>) -> Option<String> {
        let origin = self.origins.get(logical_id)?;
        let properties = template
            .get("Resources")?
            .get(logical_id)?
            .get("Properties");
        let value = property.zip(properties).and_then(|(path, props)| {
            path.split('.').try_fold(props, |v, part| match v {
                Value::Array(items) => items.get(part.parse::<usize>().ok()?),
                _ => v.get(part),
            })
        });
        match self.resolved.anchor_for(origin, value) {
            Anchor::At(loc) => Some(format!("{}:{}:{}", self.file, loc.line, loc.col)),
            _ => None,
        }
    }
}

/// Renders many (stack, environment, code) jobs on all available cores, returning
/// outcomes in the order asked. Each pair is independent; the renderer and
/// its parse cache are shared.
pub fn render_jobs(
    jobs: &[(&StackSource, &str, &CodeLocations)],
    renderer: &Renderer,
) -> Vec<Result<Outcome, RenderError>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((source, env, code)) = jobs.get(i) else {
                return done;
            };
            done.push((i, render_environment(source, env, renderer, code)));
        }
    };
    let mut results: Vec<(usize, Result<Outcome, RenderError>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().expect("render worker panicked"));
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::TemplateSet;
    use crate::source::SourceFile;

    /// Every registry kind's attributes, asked for by a function's
    /// environment, become the CloudFormation values the registry says.
    #[test]
    fn references_to_each_registry_kind_become_their_cloudformation_values() {
        let text = r#"
name: refs
region: us-east-1
functions:
  api:
    crate: api-handler
    environment:
      REST_URL: ${apis.rest.url}
      HTTP_URL: ${apis.http.url}
      SITE: ${distributions.site.url}
      ACL: ${web_acls.edge.arn}
      SCHEDULE: ${schedules.nightly.arn}
      ALARM: ${alarms.errors.arn}
      BUCKET: ${buckets.assets.arn}
apis:
  rest: {type: rest, routes: {"GET /items": {function: api, public: true}}}
  http: {type: http, routes: {"GET /items": {function: api, public: true}}}
buckets:
  assets: {}
distributions:
  site: {origin: assets, waf: edge}
web_acls:
  edge: {scope: cloudfront, managed_rules: [AWSManagedRulesCommonRuleSet]}
topics:
  alerts: {}
schedules:
  nightly: {function: api, expression: rate(1 day)}
alarms:
  errors: {type: function_errors, function: api, threshold: 1, notify: [alerts]}
"#;
        let file = SourceFile {
            name: "refs.yaml".into(),
            text: text.into(),
        };
        let source = StackSource::parse(file).map_err(|(_, d)| d).unwrap();
        let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
        let outcome =
            render_environment(&source, "prod", &renderer, &CodeLocations::default()).unwrap();
        let template = match outcome {
            Outcome::Rendered { template, .. } => template,
            Outcome::Invalid(d) => panic!("{d:#?}"),
        };
        let env = &template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
        let sub = |key: &str| env[key]["Fn::Sub"].as_str().unwrap_or_default().to_string();
        let root = ".execute-api.${AWS::Region}.${AWS::URLSuffix}";
        assert_eq!(sub("REST_URL"), format!("https://${{RestApi}}{root}/prod"));
        assert_eq!(sub("HTTP_URL"), format!("https://${{HttpApi}}{root}"));
        assert_eq!(sub("SITE"), "https://${SiteDistribution.DomainName}");
        assert_eq!(sub("ACL"), "${EdgeWebAcl.Arn}");
        assert_eq!(
            sub("SCHEDULE"),
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/default/${AWS::StackName}-nightly"
        );
        assert_eq!(
            sub("ALARM"),
            "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-errors"
        );
        assert_eq!(
            sub("BUCKET"),
            "arn:${AWS::Partition}:s3:::${AWS::StackName}-assets-${AWS::AccountId}-${AWS::Region}"
        );
    }
}
