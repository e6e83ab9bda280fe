//! Ctrl-C during a deploy, before anything was executed: stackctl stops,
//! removes what it started, says so, and exits 130. CloudFormation is a
//! local endpoint that never answers its first call, so the interrupt
//! reliably lands while stackctl waits on AWS.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::moto::Moto;

/// A project with one small stack, deployed with CloudFormation at `port`
/// (everything else at the emulator); returns the running stackctl.
fn deploy_with_cloudformation_at(
    moto: &Moto,
    dir: &std::path::Path,
    port: u16,
) -> std::process::Child {
    std::fs::create_dir_all(dir.join("stacks")).unwrap();
    std::fs::write(
        dir.join("stacks/cancelme.yaml"),
        "name: cancelme\ntables:\n  items:\n    partition_key: {name: id, type: S}\n",
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args([
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "cancelme",
        ])
        .current_dir(dir)
        .envs(moto.env())
        .env(
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            format!("http://127.0.0.1:{port}"),
        )
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends Ctrl-C (SIGINT) and collects what stackctl said and its exit code.
fn interrupt(child: std::process::Child) -> (Option<i32>, String) {
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_before_execution_cleans_up_and_exits_130() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // The first CloudFormation call hangs; later ones (the clean-up) are refused at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (first_call, called) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            if i == 0 {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = first_call.send(());
                held.push(stream);
            }
        }
    });

    let child = deploy_with_cloudformation_at(&moto, dir.path(), port);
    called
        .recv_timeout(Duration::from_secs(60))
        .expect("stackctl reached CloudFormation");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; cleaning up"), "{stderr}");
    assert!(
        stderr.contains("interrupted before cancelme-dev was changed"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "clean-up is bounded: {:?}",
        started.elapsed()
    );
}

/// A CloudFormation stand-in speaking the query protocol: the stack does not
/// exist, a change set is made and executed, and then event polls never get
/// an answer, as when a long deploy is running.
fn fake_cloudformation(executed: mpsc::Sender<()>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let events_polled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (executed, events_polled) = (executed.clone(), events_polled.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let body = String::from_utf8_lossy(&body).into_owned();
                    let action = body
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("Action="))
                        .unwrap_or_default()
                        .to_string();
                    let ok = |inner: &str| {
                        (200, format!("<{action}Response xmlns=\"{NS}\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"))
                    };
                    let (status, xml) = match action.as_str() {
                        "DescribeStacks" => (400, format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id cancelme-dev does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>")),
                        "CreateChangeSet" => ok("<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/c/1</Id><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/cancelme-dev/1</StackId>"),
                        "DescribeChangeSet" => ok("<Status>CREATE_COMPLETE</Status><Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>ItemsTable</LogicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType></ResourceChange></member></Changes>"),
                        "ExecuteChangeSet" => {
                            let _ = executed.send(());
                            ok("")
                        }
                        "DescribeStackEvents" if events_polled.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 => ok("<StackEvents><member><EventId>e0</EventId><StackId>s</StackId><StackName>cancelme-dev</StackName><LogicalResourceId>cancelme-dev</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType><ResourceStatus>REVIEW_IN_PROGRESS</ResourceStatus><Timestamp>2026-01-01T00:00:00Z</Timestamp></member></StackEvents>"),
                        // The deploy is under way: the answer never comes.
                        _ => {
                            std::thread::sleep(Duration::from_secs(600));
                            return;
                        }
                    };
                    let reason = if status == 200 { "OK" } else { "Bad Request" };
                    let _ = write!(stream, "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}", xml.len());
                }
            });
        }
    });
    port
}

#[test]
fn ctrl_c_during_execution_says_cloudformation_carries_on() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (executed, was_executed) = mpsc::channel();
    let child = deploy_with_cloudformation_at(&moto, dir.path(), fake_cloudformation(executed));
    was_executed
        .recv_timeout(Duration::from_secs(60))
        .expect("stackctl executed the change set");
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("stopped watching cancelme-dev; CloudFormation carries on with the deploy"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws cloudformation describe-stack-events --stack-name cancelme-dev"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("change set was removed"),
        "an executing change set is not touched: {stderr}"
    );
}
