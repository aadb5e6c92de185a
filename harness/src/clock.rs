//! Nominal time and real time. The catalogue's durations ("within 2 s") are nominal; the
//! grading's time scale (`--time-scale`, a course's `limits.time_scale`) stretches every one
//! of them alike on a slow machine. Scenarios and helpers hold a [`Clock`] and never multiply
//! by the scale themselves.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    scale: f64,
}

impl Clock {
    /// A clock whose nominal durations last `scale` times longer (1.0: as written).
    pub fn new(scale: f64) -> Self {
        Clock { scale }
    }

    /// How long a nominal duration really lasts.
    pub fn real(self, nominal: Duration) -> Duration {
        nominal.mul_f64(self.scale)
    }

    /// How long a nominal duration really lasts, in whole milliseconds (a supervisor's wall
    /// limit).
    pub fn real_ms(self, nominal: Duration) -> u64 {
        (nominal.as_secs_f64() * 1000.0 * self.scale) as u64
    }

    /// The instant a nominal duration from now ends.
    pub fn deadline(self, nominal: Duration) -> Instant {
        Instant::now() + self.real(nominal)
    }

    /// How much longer than nominal everything lasts, for tolerances that are not durations
    /// (a clock skew in seconds, a speed-up factor).
    pub fn factor(self) -> f64 {
        self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_nominal_durations() {
        let clock = Clock::new(2.5);
        assert_eq!(clock.real(Duration::from_secs(2)), Duration::from_secs(5));
        let before = Instant::now();
        let at = clock.deadline(Duration::from_millis(400));
        assert!(at >= before + Duration::from_millis(1000));
    }
}
