//! The handler side of the benchmark: a Lambda runtime loop over blocking
//! HTTP/1.1 with keep-alive, as small as a custom runtime can be.

use super::ANSWER;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("AWS_LAMBDA_RUNTIME_API is not set");
        return ExitCode::FAILURE;
    };
    let mut runtime = Runtime { api, conn: None };
    loop {
        let next = runtime.call("GET", "/2018-06-01/runtime/invocation/next", b"");
        let id = match next {
            Ok(Answer {
                status: 200,
                id: Some(id),
            }) => id,
            Ok(Answer { status, .. }) => return fail(format!("next answered {status}")),
            // The runtime API went away: the session is stopping.
            Err(e) => return fail(format!("next: {e}")),
        };
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        match runtime.call("POST", &path, ANSWER) {
            Ok(Answer { status: 202, .. }) => {}
            Ok(Answer { status, .. }) => return fail(format!("response answered {status}")),
            Err(e) => return fail(format!("response: {e}")),
        }
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("bench bootstrap: {message}");
    ExitCode::FAILURE
}

struct Answer {
    status: u16,
    id: Option<String>,
}

struct Runtime {
    api: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Runtime {
    /// One exchange; a kept-alive connection the server closed is
    /// replaced once.
    fn call(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        let mut retried = false;
        loop {
            if self.conn.is_none() {
                let stream = TcpStream::connect(&self.api)?;
                stream.set_nodelay(true)?;
                self.conn = Some(BufReader::new(stream));
            }
            let conn = self.conn.as_mut().expect("connected");
            match exchange(conn, &self.api, method, path, body) {
                Ok((answer, keep)) => {
                    if !keep {
                        self.conn = None;
                    }
                    return Ok(answer);
                }
                Err(e) if retried => return Err(e),
                Err(_) => {
                    self.conn = None;
                    retried = true;
                }
            }
        }
    }
}

fn exchange(
    conn: &mut BufReader<TcpStream>,
    host: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(Answer, bool)> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    conn.get_mut().write_all(&request)?;
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("status line {line:?}")))?;
    let (mut length, mut id, mut keep) = (0usize, None, true);
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().map_err(std::io::Error::other)?,
            "lambda-runtime-aws-request-id" => id = Some(value.to_string()),
            "connection" => keep = !value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut content = vec![0; length];
    conn.read_exact(&mut content)?;
    Ok((Answer { status, id }, keep))
}
