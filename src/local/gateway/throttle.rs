//! Stage throttling: API Gateway's token bucket. `burst` tokens at most,
//! refilled at `rate` per second; a request that finds the bucket empty is
//! answered `429 {"message":"Too Many Requests"}` ("Throttle requests to
//! your REST APIs", "Throttling requests to your HTTP API").

use crate::local::template::Throttle;
use std::sync::Mutex;

pub struct TokenBucket {
    rate_per_second: f64,
    burst: f64,
    state: Mutex<(f64, u64)>,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(limit: Throttle, now_ms: u64) -> TokenBucket {
        let burst = f64::from(limit.burst);
        TokenBucket {
            rate_per_second: limit.rate_per_second,
            burst,
            state: Mutex::new((burst, now_ms)),
        }
    }

    /// Takes one token at `now_ms`; `false` when there is none.
    pub fn take(&self, now_ms: u64) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = *state;
        let elapsed_s = now_ms.saturating_sub(last) as f64 / 1000.0;
        let available = (tokens + elapsed_s * self.rate_per_second).min(self.burst);
        if available < 1.0 {
            *state = (available, now_ms.max(last));
            return false;
        }
        *state = (available - 1.0, now_ms.max(last));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_empties_the_bucket_and_the_rate_refills_it() {
        let bucket = TokenBucket::new(
            Throttle {
                rate_per_second: 2.0,
                burst: 3,
            },
            0,
        );
        assert!((0..3).all(|_| bucket.take(0)));
        assert!(
            !bucket.take(0),
            "the fourth request in the same instant is refused"
        );
        assert!(!bucket.take(400), "0.8 of a token after 400 ms");
        assert!(bucket.take(500), "one token after 500 ms at 2 per second");
        assert!(!bucket.take(500));
        // A long pause refills only up to the burst.
        assert!((0..3).all(|_| bucket.take(60_000)));
        assert!(!bucket.take(60_000));
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let bucket = TokenBucket::new(
            Throttle {
                rate_per_second: 0.0,
                burst: 0,
            },
            0,
        );
        assert!(!bucket.take(10_000));
    }
}
