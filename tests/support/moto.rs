//! The local AWS emulator for tests: moto in server mode (pinned, through
//! `scripts/emulator/moto_server.py`), started
//! on a free port per test process and stopped when dropped. Tests that use
//! it never skip: a failure to install or start it fails the test.

use super::{ensure, PythonTool};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MOTO: PythonTool = PythonTool {
    venv: "moto",
    // cfn-lint comes with moto[server]; pinned, because the launcher reads its resource schemas.
    requirement: "moto[server]==5.2.5 cfn-lint==1.58.0",
    executable: "moto_server",
};

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts a fresh emulator and waits until it answers.
    pub fn start() -> Moto {
        let exe = ensure(&MOTO);
        let port = free_port();
        let log = std::env::temp_dir().join(format!("stackctl-moto-{port}.log"));
        // moto's own server, with the CloudFormation gaps that stop a
        // stackctl template from deploying closed (see the script).
        let python = exe.with_file_name("python");
        let launcher = super::repo_root().join("scripts/emulator/moto_server.py");
        let child = Command::new(&python)
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("moto log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start within 30 s; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for SDK clients and stackctl talking to this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_MAX_ATTEMPTS", "1".into()),
        ]
    }

    /// SDK settings for this emulator only, without touching the process
    /// environment (tests in one binary run in parallel, each with its own).
    #[allow(dead_code)]
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .load()
            .await
    }

    /// Sets `env()` for this process (SDK clients built afterwards use it).
    pub fn export(&self) {
        for (k, v) in self.env() {
            std::env::set_var(k, v);
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("address")
        .port()
}
