//! AWS clients' configuration: the standard chain, and a local endpoint when
//! `AWS_ENDPOINT_URL` is set (tests against the emulator).

pub use aws_config::SdkConfig;

/// The SDK configuration from the environment (region, credentials, endpoint).
pub async fn config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Whether clients talk to a local endpoint, where S3 needs path-style URLs.
pub fn local_endpoint() -> bool {
    std::env::var_os("AWS_ENDPOINT_URL").is_some()
}
