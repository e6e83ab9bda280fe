//! Where stackctl acts: an explicit `--profile` wins over credentials and
//! region exported in the environment (as in the AWS CLI). Its own test
//! binary, since it sets the process's environment.

use aws_credential_types::provider::ProvideCredentials;
use stackctl::engine::context::{AwsChoice, AwsConfig};

#[tokio::test]
async fn an_explicit_profile_wins_over_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile other]\nregion = eu-central-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[other]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = profile-secret\n",
    )
    .unwrap();
    for (k, v) in [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", "ENVKEY"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
        ("AWS_REGION", "us-west-2"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");

    let access_key = |config: AwsConfig| async move {
        config
            .sdk()
            .credentials_provider()
            .expect("a credentials provider")
            .provide_credentials()
            .await
            .expect("credentials")
            .access_key_id()
            .to_string()
    };

    let chosen = AwsConfig::load(&AwsChoice {
        profile: Some("other".into()),
        region: None,
    })
    .await
    .unwrap();
    assert_eq!(chosen.region(), "eu-central-1", "the profile's region");
    assert_eq!(access_key(chosen).await, "PROFILEKEY", "the profile's keys");

    let with_region = AwsConfig::load(&AwsChoice {
        profile: Some("other".into()),
        region: Some("ap-southeast-2".into()),
    })
    .await
    .unwrap();
    assert_eq!(
        with_region.region(),
        "ap-southeast-2",
        "--region wins over both"
    );

    let standard = AwsConfig::load(&AwsChoice::default()).await.unwrap();
    assert_eq!(standard.region(), "us-west-2");
    assert_eq!(
        access_key(standard).await,
        "ENVKEY",
        "without --profile, the standard chain: the environment first"
    );
}
