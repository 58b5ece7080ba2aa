//! The time source as a foreign-implemented trait, so an app (or a test)
//! decides what "now" is: auto-lock timeouts, card expiry, the booking time
//! of a tap, and which budget period is current all read it.
//!
//! Apps normally leave it out and get the device clock. A test passes a
//! clock it moves by hand, which is how the Kotlin and Swift suites check
//! budget periods and auto-lock without waiting.

use std::sync::Arc;

use wallet_core::{Clock as CoreClock, SystemClock};

use crate::error::CallbackError;
use crate::validate::MAX_INSTANT_MS;

/// What time it is, for the wallet.
///
/// Called often and from any thread, sometimes while the wallet holds its
/// database lock: answer at once, and never call back into the wallet.
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z (UTC). A value before 1970
    /// or after 9999 is taken as the nearest end of that range; throwing
    /// makes the wallet use the device clock for that reading.
    fn now_millis(&self) -> Result<i64, CallbackError>;
}

/// Lets the core read a foreign clock through its own trait.
struct Platform(Arc<dyn Clock>);

impl CoreClock for Platform {
    fn now_millis(&self) -> i64 {
        match self.0.now_millis() {
            // Out-of-range instants would make date arithmetic in the core
            // fail far from here, in ways that are hard to diagnose.
            Ok(ms) => ms.clamp(0, MAX_INSTANT_MS),
            // The core's clock cannot fail; the device clock is the honest
            // stand-in for one reading.
            Err(_) => SystemClock.now_millis(),
        }
    }
}

/// The clock a wallet runs on: the app's, or the device's.
pub(crate) fn core_clock(clock: Option<Arc<dyn Clock>>) -> Arc<dyn CoreClock> {
    match clock {
        Some(c) => Arc::new(Platform(c)),
        None => Arc::new(SystemClock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Result<i64, CallbackError>);

    impl Clock for Fixed {
        fn now_millis(&self) -> Result<i64, CallbackError> {
            self.0.clone()
        }
    }

    #[test]
    fn a_foreign_clock_is_clamped_and_a_failing_one_falls_back() {
        let read = |r| core_clock(Some(Arc::new(Fixed(r)))).now_millis();
        assert_eq!(read(Ok(1_795_435_200_000)), 1_795_435_200_000);
        assert_eq!(read(Ok(-5)), 0);
        assert_eq!(read(Ok(i64::MAX)), MAX_INSTANT_MS);
        let failed = read(Err(CallbackError::Failed {
            reason: "boom".into(),
        }));
        let device = SystemClock.now_millis();
        assert!(
            (device - failed).abs() < 60_000,
            "fell back to the device clock"
        );
    }
}
