//! Flags, environment and profile resolved once into validated settings,
//! before any command runs; and for the commands that reach AWS, the one
//! place that loads the configuration, checks each stack's declared region,
//! asks who the credentials belong to, and builds the runtime and the
//! clients (once per run).

use super::args::{AwsArgs, Cli, Command};
use super::ui::{Refusal, Ui};
use crate::engine::context::{AwsChoice, AwsConfig, AwsContext};
use std::path::PathBuf;

/// What every command may rely on.
#[derive(Debug, Clone)]
pub struct Settings {
    pub stacks_dir: PathBuf,
    pub build_dir: PathBuf,
    pub verbose: bool,
    /// Profile and region as chosen on the command line (the environment
    /// and profiles fill the rest when the configuration loads).
    pub aws: AwsChoice,
}

impl Settings {
    /// Validates what clap cannot: empty names, a region that is not one.
    pub fn resolve(cli: &Cli) -> Result<Settings, Refusal> {
        let aws = match aws_args(&cli.command) {
            Some(a) => AwsChoice {
                profile: non_empty("--profile", a.profile.as_deref())?,
                region: non_empty("--region", a.region.as_deref())?
                    .map(|r| valid_region(&r).map(|()| r))
                    .transpose()?,
            },
            None => AwsChoice::default(),
        };
        Ok(Settings {
            stacks_dir: cli.stacks_dir.clone(),
            build_dir: cli.build_dir.clone(),
            verbose: cli.verbose,
            aws,
        })
    }
}

fn aws_args(command: &Command) -> Option<&AwsArgs> {
    match command {
        Command::Build(a) => Some(&a.aws),
        Command::Diff(a) => Some(&a.aws),
        Command::Deploy(a) => Some(&a.aws),
        Command::Destroy(a) => Some(&a.aws),
        Command::Outputs(a) => Some(&a.aws),
        Command::Status(a) => Some(&a.aws),
        Command::Verify(a) => Some(&a.aws),
        Command::Drift(a) => Some(&a.aws),
        Command::Logs(a) => Some(&a.aws),
        Command::Local(a) => Some(match &a.action {
            Some(super::args::LocalAction::Invoke(invoke)) => &invoke.session.aws,
            None => &a.session.aws,
        }),
        Command::Validate(_) | Command::Render(_) | Command::Schema => None,
    }
}

fn non_empty(flag: &str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        Some("") => Err(Refusal {
            message: format!("{flag} is empty"),
            hint: Some(format!(
                "name one, or leave {flag} out to use the environment and profiles"
            )),
        }),
        other => Ok(other.map(String::from)),
    }
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`: lowercase words and a number.
fn valid_region(region: &str) -> Result<(), Refusal> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Refusal {
            message: format!("`{region}` is not an AWS region"),
            hint: Some("regions look like `eu-west-1` or `us-east-1`".into()),
        })
    }
}

/// A stack and the region its definition insists on, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRegion {
    pub stack: String,
    pub region: Option<String>,
}

/// Every stack acts in the region it declares, or nowhere: checked before
/// any AWS call, so a wrong region never reads as "does not exist".
pub fn check_regions(region: &str, declared: &[DeclaredRegion]) -> Result<(), Refusal> {
    match declared
        .iter()
        .find(|d| d.region.as_deref().is_some_and(|r| r != region))
    {
        None => Ok(()),
        Some(d) => {
            let wanted = d.region.as_deref().unwrap_or_default();
            Err(Refusal {
                message: format!(
                    "{} belongs in {wanted} (its `region`), but the AWS region in use is {region}",
                    d.stack
                ),
                hint: Some(format!("pass `--region {wanted}`")),
            })
        }
    }
}

/// The runtime and the AWS context of one run, each built once.
pub struct Aws {
    pub runtime: tokio::runtime::Runtime,
    pub context: AwsContext,
}

/// Loads the configuration, checks the declared regions, and asks STS who
/// the credentials belong to. With `announce`, says which account and
/// region the command acts on (before anything is written there).
pub fn connect(
    settings: &Settings,
    declared: &[DeclaredRegion],
    announce: bool,
    ui: &Ui,
) -> anyhow::Result<Aws> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let config = runtime.block_on(AwsConfig::load(&settings.aws))?;
    check_regions(config.region(), declared)?;
    let context = runtime.block_on(AwsContext::connect(config))?;
    if announce {
        let profile = match context.key().0 {
            Some(p) => format!(" (profile {p})"),
            None => String::new(),
        };
        ui.line(&format!(
            "AWS account {} in {}{profile}",
            context.account(),
            context.region()
        ));
    }
    Ok(Aws { runtime, context })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_that_declares_a_region_refuses_any_other() {
        let declared = vec![
            DeclaredRegion {
                stack: "web-prod".into(),
                region: None,
            },
            DeclaredRegion {
                stack: "edge-prod".into(),
                region: Some("us-east-1".into()),
            },
        ];
        assert!(check_regions("us-east-1", &declared).is_ok());
        let refusal = check_regions("eu-west-1", &declared).unwrap_err();
        assert_eq!(
            refusal.message,
            "edge-prod belongs in us-east-1 (its `region`), but the AWS region in use is eu-west-1"
        );
        assert_eq!(refusal.hint.as_deref(), Some("pass `--region us-east-1`"));
    }

    #[test]
    fn regions_and_names_are_checked_before_use() {
        assert!(valid_region("eu-west-1").is_ok());
        assert!(valid_region("us-gov-west-1").is_ok());
        assert!(valid_region("Europe").is_err());
        assert!(valid_region("eu-west").is_err());
        assert!(non_empty("--profile", Some(" ")).is_err());
        assert_eq!(
            non_empty("--profile", Some("ci")).unwrap().as_deref(),
            Some("ci")
        );
    }
}
