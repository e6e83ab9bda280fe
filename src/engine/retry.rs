//! One retry policy for every AWS call stackctl repeats on its own, on top
//! of the SDK's three attempts: throttling and transient failures (timeouts,
//! lost connections, server errors) are waited out with jittered
//! exponential backoff, so parallel deploys do not come back in step.

use super::error::AwsError;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Calls in all, the first included.
    pub attempts: u32,
    /// The pause before the second call.
    pub first_delay: Duration,
    /// The longest pause.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// About two minutes of patience in all: DescribeStackEvents and
    /// DescribeChangeSet limits refill within seconds.
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Calls `call` until it succeeds, fails for a reason a pause does not
    /// cure, or the attempts are spent.
    pub async fn run<T, F, Fut>(&self, call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        self.run_when(AwsError::is_transient, call).await
    }

    /// Like [`run`](Self::run), for calls that must not be repeated after
    /// every transient failure: a write whose answer was lost may have been
    /// carried out, so it is repeated only when AWS says it throttled it.
    pub async fn run_when<T, F, Fut>(
        &self,
        worth_retrying: fn(&AwsError) -> bool,
        mut call: F,
    ) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if worth_retrying(&e) && attempt < self.attempts => {
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// The pause after the `attempt`-th failed call: doubling from the
    /// first delay up to the longest, then jittered to 50-100%.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        jitter(doubled.min(self.max_delay))
    }
}

/// Between 50% and 100% of `d`, from the clock's low bits (no RNG needed).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d / 2 + d.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::error::ErrorKind;
    use std::cell::Cell;

    #[test]
    fn delays_double_up_to_the_longest_and_stay_jittered() {
        let policy = RetryPolicy::default();
        for attempt in 1..12 {
            let nominal = policy
                .first_delay
                .saturating_mul(1 << (attempt - 1))
                .min(policy.max_delay);
            let d = policy.delay(attempt);
            assert!(d >= nominal / 2 && d <= nominal, "{attempt}: {d:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_and_others_are_not() {
        let policy = RetryPolicy::default();
        let calls = Cell::new(0);
        let result = policy
            .run(|| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(AwsError::new(ErrorKind::Throttled, "poll", "Rate exceeded"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(result.unwrap(), 3);
        calls.set(0);
        let denied: Result<(), _> = policy
            .run(|| {
                calls.set(calls.get() + 1);
                async { Err(AwsError::new(ErrorKind::AccessDenied, "poll", "no")) }
            })
            .await;
        assert_eq!(
            (denied.unwrap_err().kind, calls.get()),
            (ErrorKind::AccessDenied, 1)
        );
        calls.set(0);
        let throttled: Result<(), _> = policy
            .run(|| {
                calls.set(calls.get() + 1);
                async { Err(AwsError::new(ErrorKind::Throttled, "poll", "Rate exceeded")) }
            })
            .await;
        assert!(throttled.is_err());
        assert_eq!(calls.get(), policy.attempts, "gives up after the attempts");
    }
}
