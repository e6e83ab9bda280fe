//! The eBay bid sniper (`stacks/ebay-sniper.yaml`, issue 12) deployed to the
//! emulator with its real packages, its functions pointed at the local
//! eBay/Postmark stand-in, as the contract test (`tests/sniper_backend.rs`)
//! and the bid timing benchmark (`benches/bid_timing.rs`) use it.
//!
//! [`World::deploy`] starts the stand-in and moto, registers the app's
//! keyset and a Postmark server token in the stand-in, adds
//! `EBAY_API_BASE_URL` and `POSTMARK_API_BASE_URL` (the stand-in) to the
//! stack file's `function_defaults.environment`, deploys `ebay-sniper`
//! (dev), then does what an operator does out of band: sets both secrets'
//! values, and makes sure the bid schedule group exists (the emulator
//! creates it; moto's own CloudFormation would not). [`World::invoke`] runs
//! the bid executor once with a schedule's input through
//! `stackctl local invoke`, as Scheduler would.

use super::local::{output, Local, Project, PASSWORD};
use super::moto::Moto;
use super::standin::Standin;
use serde_json::{json, Value};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const STACK: &str = "ebay-sniper";
/// The eBay keyset in the `ebay-credentials` secret (App ID, Cert ID,
/// Dev ID, RuName), registered as an OAuth client in the stand-in.
pub const APP_ID: &str = "SniperAp-test-SBX-1a2b3c4d5-6e7f8a9b";
pub const CERT_ID: &str = "SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b";
pub const DEV_ID: &str = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
pub const RU_NAME: &str = "Sniper_Test-SniperAp-SBX-abcdefghi";
pub const POSTMARK_TOKEN: &str = "0f1e2d3c-postmark-server-token";
pub const MAIL_FROM: &str = "Sniper <bids@sniper.example.com>";

/// Everything the sniper runs on, torn down when dropped.
pub struct World {
    pub standin: Standin,
    pub moto: Moto,
    pub project: Project,
    pub outputs: Value,
    pub sdk: aws_config::SdkConfig,
    pub users_table: String,
    pub bids_table: String,
    pub history_table: String,
    pub schedule_group: String,
    pub scheduler_role_arn: String,
    pub dead_letter_arn: String,
    pub stack_key_arn: String,
    /// The bid executor's function ARN (what schedules target).
    pub executor_arn: String,
    pub user_pool: String,
    pub web_client: String,
    /// How long the deploy took (the first one builds the packages).
    pub deployed_in: Duration,
    /// Whether the test had to create the schedule group itself.
    pub created_group: bool,
    /// What `stackctl local` cannot learn from the deployment: the Amplify
    /// app's domain (the emulator has no Amplify; the stack's `FrontendUrl`
    /// output holds the stand-in domain it deployed with), for CORS_ORIGINS.
    pub resolve: String,
    events: AtomicUsize,
}

/// A user of the deployed pool, signed in.
pub struct User {
    pub username: String,
    pub email: String,
    pub sub: String,
    pub id_token: String,
}

/// One run of the bid executor through `stackctl local invoke`.
#[derive(Clone)]
pub struct Invocation {
    /// Exit 0: the function answered (rather than failed).
    pub ok: bool,
    /// The function's answer (stdout, as JSON; `null` when it failed).
    pub answer: Value,
    pub stdout: String,
    /// The function's log lines and stackctl's own (IAM denials among them).
    pub stderr: String,
    pub took: Duration,
}

impl Invocation {
    pub fn result(&self) -> &str {
        self.answer["result"].as_str().unwrap_or("")
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

impl World {
    pub async fn deploy() -> World {
        let standin = Standin::start();
        standin.post(
            "clients",
            json!({"clientId": APP_ID, "clientSecret": CERT_ID}),
        );
        standin.post("postmark_tokens", json!({"serverToken": POSTMARK_TOKEN}));

        let moto = Moto::start();
        let project = Project::of(STACK);
        project.edit(
            "    LOG_LEVEL: INFO\n",
            &format!(
                "    LOG_LEVEL: INFO\n    EBAY_API_BASE_URL: \"{url}\"\n    POSTMARK_API_BASE_URL: \"{url}\"\n",
                url = standin.url
            ),
        );
        let started = Instant::now();
        project.deploy(&moto);
        let deployed_in = started.elapsed();
        let outputs = project.outputs(&moto);
        let sdk = moto.sdk_config().await;
        let stack_name = format!("{STACK}-dev");
        let executor = physical_id(&sdk, &stack_name, "BidExecutorFunction").await;
        let role_arn = output(&outputs, "BidSchedulesScheduleGroupRoleArn");
        // `arn:aws:iam::ACCOUNT:role/…`
        let account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
        // `https://dev.DOMAIN`
        let frontend = output(&outputs, "FrontendUrl");
        let domain = frontend.trim_start_matches("https://dev.").to_string();
        let mut world = World {
            resolve: format!("FrontendApp.DefaultDomain={domain}"),
            users_table: output(&outputs, "UsersTableName"),
            bids_table: output(&outputs, "BidsTableName"),
            history_table: output(&outputs, "BidHistoryTableName"),
            schedule_group: output(&outputs, "BidSchedulesScheduleGroupName"),
            scheduler_role_arn: role_arn,
            dead_letter_arn: output(&outputs, "BidSchedulesScheduleGroupDeadLetterQueueArn"),
            stack_key_arn: output(&outputs, "StackKeyArn"),
            executor_arn: format!("arn:aws:lambda:us-east-1:{account}:function:{executor}"),
            user_pool: output(&outputs, "UserPoolId"),
            web_client: output(&outputs, "WebClientUserPoolClientId"),
            outputs,
            sdk,
            standin,
            moto,
            project,
            deployed_in,
            created_group: false,
            events: AtomicUsize::new(0),
        };
        world.set_secrets().await;
        world.created_group = world.ensure_schedule_group().await;
        world
    }

    /// The operator's part: both secrets' values (the stack only declares
    /// them). The emulator creates them with a generated value; a secret
    /// it did not create is created here under the stack's name for it.
    async fn set_secrets(&self) {
        let secrets = aws_sdk_secretsmanager::Client::new(&self.sdk);
        let ebay =
            json!({"app_id": APP_ID, "cert_id": CERT_ID, "dev_id": DEV_ID, "ru_name": RU_NAME});
        let postmark = json!({"server_token": POSTMARK_TOKEN, "from": MAIL_FROM});
        for (output_name, value) in [
            ("EbayCredentialsSecretArn", ebay),
            ("PostmarkSecretArn", postmark),
        ] {
            let arn = output(&self.outputs, output_name);
            let put = secrets
                .put_secret_value()
                .secret_id(&arn)
                .secret_string(value.to_string())
                .send()
                .await;
            if let Err(e) = put {
                if !e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    panic!("PutSecretValue {arn}: {e:?}");
                }
                // `arn:…:secret:NAME-XXXXXX`: the name the stack gives it.
                let name = arn
                    .split(":secret:")
                    .nth(1)
                    .and_then(|n| n.rsplit_once('-'))
                    .map(|(name, _)| name.to_string())
                    .unwrap_or_else(|| panic!("not a secret ARN: {arn}"));
                secrets
                    .create_secret()
                    .name(name)
                    .secret_string(value.to_string())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("CreateSecret for {arn}: {e:?}"));
            }
        }
    }

    /// Whether the group had to be created (moto's CloudFormation skips
    /// `AWS::Scheduler::ScheduleGroup`; the emulator's launcher creates it).
    async fn ensure_schedule_group(&self) -> bool {
        let scheduler = aws_sdk_scheduler::Client::new(&self.sdk);
        let got = scheduler
            .get_schedule_group()
            .name(&self.schedule_group)
            .send()
            .await;
        match got {
            Ok(_) => false,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                scheduler
                    .create_schedule_group()
                    .name(&self.schedule_group)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("CreateScheduleGroup: {e:?}"));
                true
            }
            Err(e) => panic!("GetScheduleGroup {}: {e:?}", self.schedule_group),
        }
    }

    /// A user created by an administrator with a permanent password and
    /// signed in (ADMIN_USER_PASSWORD_AUTH) for an ID token of the web client.
    pub async fn user(&self, username: &str, email: &str) -> User {
        use aws_sdk_cognitoidentityprovider::types::{
            AttributeType, AuthFlowType, MessageActionType,
        };
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk);
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .unwrap()
        };
        cognito
            .admin_create_user()
            .user_pool_id(&self.user_pool)
            .username(username)
            .user_attributes(attribute("email", email))
            .user_attributes(attribute("email_verified", "true"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AdminCreateUser {username}: {e:?}"));
        cognito
            .admin_set_user_password()
            .user_pool_id(&self.user_pool)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AdminSetUserPassword {username}: {e:?}"));
        let signed_in = cognito
            .admin_initiate_auth()
            .user_pool_id(&self.user_pool)
            .client_id(&self.web_client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AdminInitiateAuth {username}: {e:?}"));
        let tokens = signed_in
            .authentication_result()
            .unwrap_or_else(|| panic!("{username}: a challenge instead of tokens: {signed_in:?}"));
        let got = cognito
            .admin_get_user()
            .user_pool_id(&self.user_pool)
            .username(username)
            .send()
            .await
            .unwrap();
        let sub = got
            .user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .expect("a sub")
            .to_string();
        User {
            username: username.to_string(),
            email: email.to_string(),
            sub,
            id_token: tokens.id_token().expect("an ID token").to_string(),
        }
    }

    /// `stackctl local` of the stack, serving its HTTP API.
    pub fn local(&self, name: &str) -> Local {
        Local::start_with_args(
            &self.project,
            &self.moto,
            name,
            &["--resolve", &self.resolve],
        )
    }

    /// Runs the bid executor once with `input` (a schedule's input), as
    /// `stackctl local invoke --env dev --resolve … ebay-sniper bid-executor
    /// --event FILE`.
    pub fn invoke(&self, input: &Value) -> Invocation {
        let n = self.events.fetch_add(1, Ordering::SeqCst);
        let event = self.project.dir.path().join(format!("event-{n}.json"));
        std::fs::write(&event, input.to_string()).unwrap();
        let started = Instant::now();
        let out: Output = self
            .project
            .command(
                &self.moto,
                &[
                    "local",
                    "invoke",
                    "--env",
                    "dev",
                    "--resolve",
                    &self.resolve,
                    STACK,
                    "bid-executor",
                    "--event",
                    event.to_str().unwrap(),
                ],
            )
            .output()
            .expect("run stackctl local invoke");
        let took = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Invocation {
            ok: out.status.success(),
            answer: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took,
        }
    }
}

/// The physical id of one resource of the deployed stack.
async fn physical_id(sdk: &aws_config::SdkConfig, stack: &str, logical_id: &str) -> String {
    let cloudformation = aws_sdk_cloudformation::Client::new(sdk);
    let answer = cloudformation
        .describe_stack_resource()
        .stack_name(stack)
        .logical_resource_id(logical_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeStackResource {stack} {logical_id}: {e:?}"));
    answer
        .stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .unwrap_or_else(|| panic!("{logical_id} has no physical id"))
        .to_string()
}

/// What `stackctl local` (or `local invoke`) printed about IAM: denied calls.
pub fn iam_denials(printed: &str) -> Vec<String> {
    printed
        .lines()
        .filter(|l| {
            l.contains("denied by the functions' roles")
                || (l.contains("called ") && l.contains("of its role"))
        })
        .map(String::from)
        .collect()
}

/// Function failures a session printed: init errors, timeouts, panics.
pub fn function_failures(printed: &str) -> Vec<String> {
    printed
        .lines()
        .filter(|l| {
            l.contains("Runtime.") || l.contains("Task timed out") || l.contains(" panicked")
        })
        .map(String::from)
        .collect()
}
