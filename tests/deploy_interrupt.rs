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

#[test]
fn ctrl_c_before_execution_cleans_up_and_exits_130() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/cancelme.yaml"), "name: cancelme\ntables:\n  items:\n    partition_key: {name: id, type: S}\n").unwrap();

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

    let child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["deploy", "--env", "dev", "--require-approval", "never", "cancelme"])
        .current_dir(dir.path())
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", format!("http://127.0.0.1:{port}"))
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    called.recv_timeout(Duration::from_secs(60)).expect("stackctl reached CloudFormation");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; cleaning up"), "{stderr}");
    assert!(stderr.contains("interrupted before cancelme-dev was changed"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "clean-up is bounded: {:?}", started.elapsed());
}
