//! `stackctl outputs`: a deployed stack's outputs for people and for tools
//! (a frontend build, a CI step).

use super::args::{Cli, OutputsArgs, OutputsFormat};
use super::exit;
use super::stacks::deployment_of;
use crate::engine::session::{Session, SessionOptions};
use crate::engine::stacks::{CloudFormation, Stacks};
use std::io::Write;

pub fn run(
    cli: &Cli,
    args: &OutputsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let Some(target) = deployment_of(&cli.stacks_dir, &args.stack, &args.env, err)? else {
        return Ok(exit::FAILURE);
    };
    let name = target.stack_name;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let state = runtime.block_on(async {
        let session = Session::load(&SessionOptions {
            profile: args.aws.profile.clone(),
            region: args.aws.region.clone(),
        })
        .await?;
        CloudFormation {
            client: aws_sdk_cloudformation::Client::new(&session.sdk),
        }
        .describe(&name)
        .await
    })?;
    let Some(state) = state else {
        let _ = writeln!(err, "error: stack {name} does not exist\n  = hint: deploy it with `stackctl deploy --env {} {}`", args.env, args.stack);
        return Ok(exit::FAILURE);
    };
    let mut outputs = state.outputs;
    outputs.sort();
    let text = format_outputs(&outputs, args.format);
    out.write_all(text.as_bytes())?;
    Ok(exit::OK)
}

/// Outputs as an aligned table, a JSON object, or `KEY=value` lines.
pub fn format_outputs(outputs: &[(String, String)], format: OutputsFormat) -> String {
    match format {
        OutputsFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&map).expect("strings serialize")
            )
        }
        OutputsFormat::Dotenv => outputs
            .iter()
            .map(|(k, v)| format!("{}={}\n", dotenv_key(k), dotenv_value(v)))
            .collect(),
        OutputsFormat::Table => {
            let width = outputs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            outputs
                .iter()
                .map(|(k, v)| format!("{k:width$}  {v}\n"))
                .collect()
        }
    }
}

/// `MainApiUrl` → `MAIN_API_URL`.
fn dotenv_key(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.char_indices() {
        if c.is_ascii_uppercase() && i > 0 && !key[..i].ends_with(|p: char| p.is_ascii_uppercase())
        {
            out.push('_');
        }
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// Quoted when the value needs it, so a shell or dotenv reader takes it whole.
fn dotenv_value(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people_scripts_and_dotenv() {
        let o = vec![
            (
                "MainApiUrl".to_string(),
                "https://abc.execute-api.us-east-1.amazonaws.com".to_string(),
            ),
            ("UserPoolId".to_string(), "us-east-1_X".to_string()),
            ("Odd".to_string(), "a b'c".to_string()),
        ];
        assert_eq!(format_outputs(&o, OutputsFormat::Dotenv), "MAIN_API_URL=https://abc.execute-api.us-east-1.amazonaws.com\nUSER_POOL_ID=us-east-1_X\nODD='a b'\\''c'\n");
        let json: serde_json::Value =
            serde_json::from_str(&format_outputs(&o, OutputsFormat::Json)).unwrap();
        assert_eq!(json["UserPoolId"], "us-east-1_X");
        assert!(format_outputs(&o, OutputsFormat::Table).starts_with("MainApiUrl  https://"));
        assert_eq!(dotenv_key("StackKeyArn"), "STACK_KEY_ARN");
    }
}
