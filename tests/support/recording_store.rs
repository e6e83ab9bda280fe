//! An artifact store in memory that records every call, for the scripted
//! deploy tests (included by path, so those tests need no emulator support).

use stackctl::engine::artifacts::ArtifactStore;
use stackctl::engine::error::AwsError;
use std::sync::Mutex;

#[derive(Default)]
pub struct Store {
    pub calls: Mutex<Vec<String>>,
}

impl ArtifactStore for Store {
    async fn exists(&self, key: &str) -> Result<bool, AwsError> {
        self.calls.lock().unwrap().push(format!("HEAD {key}"));
        Ok(false)
    }
    async fn put(&self, key: &str, _: Vec<u8>, _: &str) -> Result<(), AwsError> {
        self.calls.lock().unwrap().push(format!("PUT {key}"));
        Ok(())
    }
    async fn ensure(&self) -> Result<bool, AwsError> {
        self.calls.lock().unwrap().push("ENSURE".into());
        Ok(false)
    }
    fn url(&self, key: &str) -> String {
        format!("https://artifacts.s3.eu-west-1.amazonaws.com/{key}")
    }
}
