//! A stack's outputs as a table for people, JSON for tools, or dotenv for
//! a frontend build: shared by `outputs` and `deploy` (which prints them
//! after a deploy and writes `--outputs-file`).

use super::args::OutputsFormat;

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
