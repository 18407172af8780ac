//! `Clock`: where identity and provider logic get the time. Production reads the system clock;
//! tests pass a clock they set and advance, instead of sleeping.

use std::time::SystemTime;

pub trait Clock {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until a test moves it.
#[cfg(test)]
pub struct FixedClock(std::cell::Cell<SystemTime>);

#[cfg(test)]
impl FixedClock {
    pub fn at(now: SystemTime) -> Self {
        Self(std::cell::Cell::new(now))
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0.set(self.0.get() + by);
    }
}

#[cfg(test)]
impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0.get()
    }
}
