//! `stackctl local` driven as a person would: a seed stack file (by default
//! guitar-collection) copied into a project folder, deployed to the
//! emulator, served by `stackctl local` as a child process and called over
//! plain HTTP/1.1; the session stopped with Ctrl-C (SIGINT) and its output
//! read back.

use super::moto::Moto;
use super::{ensure, repo_root, ZIGBUILD};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The stack [`Project::new`] copies.
pub const STACK: &str = "guitar-collection";
pub const PASSWORD: &str = "Str0ng!Passw0rd";

/// A project folder holding one seed stack file (`stacks/NAME.yaml`).
pub struct Project {
    pub dir: tempfile::TempDir,
    /// The stack's name, as in `stacks/NAME.yaml` and on the command line.
    pub stack: String,
}

impl Project {
    /// A project with the guitar-collection stack file.
    pub fn new() -> Project {
        Project::of(STACK)
    }

    /// A project with the seed stack file `stacks/{stack}.yaml`.
    pub fn of(stack: &str) -> Project {
        Project::from("stacks", stack)
    }

    /// A project with the example stack file `examples/{stack}.yaml`.
    #[allow(dead_code)]
    pub fn of_example(stack: &str) -> Project {
        Project::from("examples", stack)
    }

    fn from(folder: &str, stack: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        let text =
            std::fs::read_to_string(repo_root().join(format!("{folder}/{stack}.yaml"))).unwrap();
        std::fs::write(dir.path().join(format!("stacks/{stack}.yaml")), text).unwrap();
        Project {
            dir,
            stack: stack.to_string(),
        }
    }

    pub fn command(&self, moto: &Moto, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stackctl"));
        command
            .arg("--stacks-dir")
            .arg(self.dir.path().join("stacks"))
            .arg("--build-dir")
            .arg(self.dir.path().join(".stackctl"))
            .args(args)
            .current_dir(repo_root())
            .envs(moto.env())
            .env("STACKCTL_ZIGBUILD", ensure(&ZIGBUILD))
            .env("CI", "true")
            .env("NO_COLOR", "1");
        command
    }

    /// `stackctl deploy --env dev` of the stack, which must succeed.
    pub fn deploy(&self, moto: &Moto) {
        let deploy = self
            .command(
                moto,
                &[
                    "deploy",
                    "--env",
                    "dev",
                    "--require-approval",
                    "never",
                    &self.stack,
                ],
            )
            .output()
            .unwrap();
        assert!(
            deploy.status.success(),
            "deploy failed:\n{}",
            String::from_utf8_lossy(&deploy.stderr)
        );
    }

    /// The deployed stack's outputs (`stackctl outputs --format json`).
    pub fn outputs(&self, moto: &Moto) -> Value {
        let out = self
            .command(
                moto,
                &["outputs", "--env", "dev", "--format", "json", &self.stack],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn edit(&self, from: &str, to: &str) {
        let path = self.dir.path().join(format!("stacks/{}.yaml", self.stack));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "the stack file has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

/// The value of the output whose name contains `name`.
pub fn output(outputs: &Value, name: &str) -> String {
    outputs
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.contains(name))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in the outputs {outputs}"))
        .to_string()
}

/// A running `stackctl local`, stopped with SIGINT as a person would.
pub struct Local {
    child: Child,
    log: PathBuf,
    pub url: String,
}

impl Local {
    pub fn start(project: &Project, moto: &Moto, name: &str) -> Local {
        Local::spawn(project, moto, name, Stdio::null(), &[])
    }

    /// Started with more arguments (`--resolve LOGICAL_ID.ATTRIBUTE=VALUE`
    /// for what the emulator's deployment does not tell, say).
    #[allow(dead_code)]
    pub fn start_with_args(project: &Project, moto: &Moto, name: &str, args: &[&str]) -> Local {
        Local::spawn(project, moto, name, Stdio::null(), args)
    }

    /// Started with a pipe to its standard input (where a person types a
    /// schedule's name), which is handed back.
    #[allow(dead_code)]
    pub fn start_with_input(project: &Project, moto: &Moto, name: &str) -> (Local, ChildStdin) {
        let mut local = Local::spawn(project, moto, name, Stdio::piped(), &[]);
        let input = local.child.stdin.take().expect("a piped stdin");
        (local, input)
    }

    fn spawn(project: &Project, moto: &Moto, name: &str, stdin: Stdio, extra: &[&str]) -> Local {
        let ready = project.dir.path().join(format!("{name}.ready.json"));
        let log = project.dir.path().join(format!("{name}.log"));
        let mut args = vec![
            "local",
            "--env",
            "dev",
            "--port",
            "0",
            "--ready-file",
            ready.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(&project.stack);
        let child = project
            .command(moto, &args)
            .stdin(stdin)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start stackctl local");
        let mut local = Local {
            child,
            log,
            url: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        while !ready.exists() {
            if let Some(status) = local.child.try_wait().unwrap() {
                panic!(
                    "stackctl local ended ({status}) before serving:\n{}",
                    local.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "stackctl local did not serve within 10 min:\n{}",
                local.output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let ready: Value = serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
        // A stack without an API is served too (its other triggers).
        local.url = ready["apis"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        local
    }

    /// What it has printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ctrl-C, then what it printed in all.
    pub fn stop(mut self) -> String {
        self.interrupt()
    }

    /// Ctrl-C, then what it printed in all, for a caller that keeps the
    /// `Local` (inside a struct, say); it must not be called again.
    pub fn interrupt(&mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "stackctl local exited {status}:\n{}",
                    self.output()
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "stackctl local did not stop on Ctrl-C:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.output()
    }

    /// A JSON request to the API, with `Authorization: Bearer TOKEN` when
    /// a token is given.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(token) = token {
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        self.request(
            method,
            path,
            &headers,
            body.map(|b| b.to_string()).unwrap_or_default().as_bytes(),
        )
    }

    /// A request to the API with exactly these headers (`Host`,
    /// `Connection` and `Content-Length` are added) and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Answer {
        http(method, &format!("{}{path}", self.url), headers, body)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`null` when it is empty or not JSON).
    pub body: Value,
    /// The body as text (S3's XML errors, say).
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error code of the handlers' envelope (`""` when there is none).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The `data` of the handlers' envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// One HTTP/1.1 request over a fresh connection.
pub fn http(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Answer {
    let rest = url.strip_prefix("http://").expect("a local http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    // A function times out long before this; a hung server fails the test.
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .unwrap_or_else(|e| panic!("{method} {url}: no answer: {e}"));
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let body = serde_json::from_slice(&answer[split + 4..]).unwrap_or(Value::Null);
    let text = String::from_utf8_lossy(&answer[split + 4..]).into_owned();
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// Signs up, confirms through the API and logs in; the id token.
pub fn sign_in(local: &Local, email: &str, name: &str) -> String {
    let register = json!({"email": email, "password": PASSWORD, "name": name});
    let r = local.call("POST", "/auth/register", None, Some(register));
    assert_eq!(r.status, 201, "{r:?}");
    let r = local.call(
        "POST",
        "/auth/confirm",
        None,
        Some(json!({"email": email, "code": "123456"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = local.call(
        "POST",
        "/auth/login",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["idToken"]
        .as_str()
        .expect("an id token")
        .to_string()
}
