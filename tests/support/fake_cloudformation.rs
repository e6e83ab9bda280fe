//! A CloudFormation stand-in on a local port, speaking the query protocol
//! the SDK uses, answering as a test's script says: for driving the real
//! `stackctl` binary through what the emulator cannot do (a change set that
//! fails, a call that never returns) while S3 and STS stay on the emulator.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub action: String,
    /// `StackName` (empty when the request has none).
    pub stack: String,
    /// How many calls of this action for this stack came before.
    pub n: usize,
    pub params: HashMap<String, String>,
}

/// The answer to a call: an HTTP status and the XML body, or `None` to
/// never answer (as while AWS is slow).
pub type Script = dyn Fn(&Call) -> Option<(u16, String)> + Send + Sync;

pub fn ok(action: &str, inner: &str) -> Option<(u16, String)> {
    Some((
        200,
        format!("<{action}Response xmlns=\"{NS}\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"),
    ))
}

pub fn error(status: u16, code: &str, message: &str) -> Option<(u16, String)> {
    Some((
        status,
        format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"),
    ))
}

pub fn missing_stack(stack: &str) -> Option<(u16, String)> {
    error(
        400,
        "ValidationError",
        &format!("Stack with id {stack} does not exist"),
    )
}

pub fn stack_arn(stack: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/1")
}

pub fn change_set_arn(stack: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:123456789012:changeSet/stackctl/{stack}")
}

/// DescribeStacks answering with one stack in `status`, with `outputs`.
pub fn stack(stack: &str, status: &str, outputs: &[(&str, &str)]) -> Option<(u16, String)> {
    let outputs: String = outputs
        .iter()
        .map(|(k, v)| {
            format!("<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>")
        })
        .collect();
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>{stack}</StackName><StackId>{}</StackId><StackStatus>{status}</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>{outputs}</Outputs></member></Stacks>",
            stack_arn(stack)
        ),
    )
}

pub fn created_change_set(stack: &str) -> Option<(u16, String)> {
    ok(
        "CreateChangeSet",
        &format!(
            "<Id>{}</Id><StackId>{}</StackId>",
            change_set_arn(stack),
            stack_arn(stack)
        ),
    )
}

/// A stack event: `(id, logical id, type, status)`.
pub fn stack_events(
    stack: &str,
    newest_first: &[(&str, &str, &str, &str)],
) -> Option<(u16, String)> {
    let members: String = newest_first
        .iter()
        .enumerate()
        .map(|(i, (id, logical, ty, status))| {
            format!(
                "<member><EventId>{id}</EventId><StackId>{}</StackId><StackName>{stack}</StackName><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{ty}</ResourceType><ResourceStatus>{status}</ResourceStatus><Timestamp>2026-01-01T00:00:{:02}Z</Timestamp></member>",
                stack_arn(stack),
                59 - i
            )
        })
        .collect();
    ok(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>"),
    )
}

/// Starts the stand-in; every call is sent to `calls` before it is answered.
/// Returns the port.
pub fn start(script: Box<Script>, calls: mpsc::Sender<Call>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script: Arc<Script> = script.into();
    let counts: Arc<Mutex<HashMap<(String, String), usize>>> = Arc::default();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (script, counts, calls) = (script.clone(), counts.clone(), calls.clone());
            std::thread::spawn(move || serve(stream, &*script, &counts, &calls));
        }
    });
    port
}

/// Answers the requests of one connection, in order.
fn serve(
    stream: std::net::TcpStream,
    script: &Script,
    counts: &Mutex<HashMap<(String, String), usize>>,
    calls: &mpsc::Sender<Call>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    while let Some(body) = read_request(&mut reader) {
        let params = form(&body);
        let action = params.get("Action").cloned().unwrap_or_default();
        let stack = params.get("StackName").cloned().unwrap_or_default();
        let n = {
            let mut counts = counts.lock().unwrap();
            let n = counts.entry((action.clone(), stack.clone())).or_default();
            *n += 1;
            *n - 1
        };
        let call = Call {
            action,
            stack,
            n,
            params,
        };
        let _ = calls.send(call.clone());
        let Some((status, xml)) = script(&call) else {
            std::thread::sleep(Duration::from_secs(600));
            return;
        };
        let reason = if status == 200 { "OK" } else { "Bad Request" };
        let _ = write!(stream, "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}", xml.len());
    }
}

/// The body of the next HTTP request, `None` when the connection ends.
fn read_request(reader: &mut impl BufRead) -> Option<String> {
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// An `application/x-www-form-urlencoded` body as a map.
fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
