//! Shared pieces of the reference programs (one binary per lecture example).
//!
//! - [`rng`]: a tiny self-seeded PRNG (splitmix64), so no `rand` dependency.
//! - [`image`]: the lecture's `ByteImage` (RGBA, 8 bits) with Bresenham lines and the
//!   "random lines on white" frame that make_movie, image_fifo and shm_image draw.
//! - [`signals`]: async-signal-safe signal catching (the handler only bumps an atomic) and
//!   race-free waiting for a signal, a timeout or a file descriptor.
//! - [`out`]: printing raw bytes (paths, environment values) to standard output.
//! - [`gui`]: a headless window speaking the harness's Qt driver protocol (the GUI exercises).

pub mod gui;

pub mod rng {
    //! splitmix64: small, fast and good enough for random pictures and file contents.

    /// A splitmix64 generator.
    pub struct Rng(u64);

    impl Rng {
        /// A generator with a fixed seed (reproducible output, for tests).
        pub fn with_seed(seed: u64) -> Rng {
            Rng(seed)
        }

        /// A generator seeded from the clock, the pid and a stack address.
        pub fn from_entropy() -> Rng {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let pid = u64::from(std::process::id());
            let local = 0u8;
            let addr = &local as *const u8 as u64;
            Rng(nanos ^ pid.rotate_left(32) ^ addr.rotate_left(17))
        }

        /// The next 64 random bits.
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// A uniform-enough integer in `lo..=hi` (like Python's `random.randint`).
        pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
            assert!(lo <= hi, "empty range {lo}..={hi}");
            let span = (hi - lo) as u64 + 1;
            // Multiply-shift maps 64 random bits onto the span without a visible bias.
            lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
        }

        /// A random byte.
        pub fn byte(&mut self) -> u8 {
            (self.next_u64() >> 56) as u8
        }
    }
}

pub mod image {
    //! An RGBA 8-bit image, as the lecture's `ByteImage.py`.

    use crate::rng::Rng;

    /// Width of the frames the exercises exchange.
    pub const FRAME_WIDTH: usize = 400;
    /// Height of the frames the exercises exchange.
    pub const FRAME_HEIGHT: usize = 400;
    /// Bytes in one 400x400 RGBA frame (640000).
    pub const FRAME_BYTES: usize = FRAME_WIDTH * FRAME_HEIGHT * 4;
    /// The POSIX shared memory segment the shm exercises exchange one frame through: the
    /// name Python's `shared_memory.SharedMemory(name="imageMap")` uses.
    pub const SEGMENT: &str = "/imageMap";

    /// Row-major RGBA pixels, 4 bytes each.
    pub struct Image {
        pub width: usize,
        pub height: usize,
        pub pixels: Vec<u8>,
    }

    impl Image {
        /// An image filled with one colour.
        pub fn new(width: usize, height: usize, r: u8, g: u8, b: u8, a: u8) -> Image {
            Image {
                width,
                height,
                pixels: [r, g, b, a].repeat(width * height),
            }
        }

        /// Fill with an opaque colour.
        pub fn clear(&mut self, r: u8, g: u8, b: u8) {
            for px in self.pixels.chunks_exact_mut(4) {
                px.copy_from_slice(&[r, g, b, 255]);
            }
        }

        /// Set one pixel; coordinates outside the image are ignored.
        pub fn set_pixel(&mut self, x: i64, y: i64, rgba: [u8; 4]) {
            if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
                return;
            }
            let i = (y as usize * self.width + x as usize) * 4;
            self.pixels[i..i + 4].copy_from_slice(&rgba);
        }

        /// The RGBA value of one pixel.
        pub fn pixel(&self, x: usize, y: usize) -> [u8; 4] {
            let i = (y * self.width + x) * 4;
            [
                self.pixels[i],
                self.pixels[i + 1],
                self.pixels[i + 2],
                self.pixels[i + 3],
            ]
        }

        /// Bresenham line from (x0, y0) to (x1, y1) inclusive, opaque colour.
        #[allow(clippy::too_many_arguments)]
        pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, r: u8, g: u8, b: u8) {
            let (dx, dy) = ((x1 - x0).abs(), (y1 - y0).abs());
            let sx = if x0 < x1 { 1 } else { -1 };
            let sy = if y0 < y1 { 1 } else { -1 };
            let (mut x, mut y, mut err) = (x0, y0, dx - dy);
            loop {
                self.set_pixel(x, y, [r, g, b, 255]);
                if x == x1 && y == y1 {
                    break;
                }
                let e2 = 2 * err;
                if e2 > -dy {
                    err -= dy;
                    x += sx;
                }
                if e2 < dx {
                    err += dx;
                    y += sy;
                }
            }
        }

        /// A checker board of `check_size` x `check_size` squares in two colours.
        pub fn checker(&mut self, c1: [u8; 3], c2: [u8; 3], check_size: usize) {
            for y in 0..self.height {
                for x in 0..self.width {
                    let v = check_size * x / self.width + check_size * y / self.height;
                    let [r, g, b] = if v.is_multiple_of(2) { c1 } else { c2 };
                    self.set_pixel(x as i64, y as i64, [r, g, b, 255]);
                }
            }
        }

        /// Random RGB everywhere, alpha set to `alpha`.
        pub fn random_pixels(&mut self, rng: &mut Rng, alpha: u8) {
            for px in self.pixels.chunks_exact_mut(4) {
                px.copy_from_slice(&[rng.byte(), rng.byte(), rng.byte(), alpha]);
            }
        }

        /// The lecture's frame: white, then `lines` lines in random colours fanning out from
        /// one random centre to random end points. Alpha stays 255 everywhere.
        pub fn random_lines_on_white(&mut self, rng: &mut Rng, lines: usize) {
            self.clear(255, 255, 255);
            let (w, h) = (self.width as i64, self.height as i64);
            // The lecture draws its centre from 1..=width, one past the edge; stay inside.
            let (cx, cy) = (rng.range(1, w - 1), rng.range(1, h - 1));
            for _ in 0..lines {
                let (x, y) = (rng.range(1, w - 1), rng.range(1, h - 1));
                let (r, g, b) = (rng.byte(), rng.byte(), rng.byte());
                self.line(cx, cy, x, y, r, g, b);
            }
        }
    }

    /// A fresh 400x400 frame of random lines on white, as the lecture draws them.
    pub fn random_lines_frame(rng: &mut Rng) -> Image {
        let mut img = Image::new(FRAME_WIDTH, FRAME_HEIGHT, 255, 255, 255, 255);
        img.random_lines_on_white(rng, 1000);
        img
    }
}

pub mod signals {
    //! Catching signals correctly.
    //!
    //! [`Catcher::new`] installs, for each signal given, a handler that only increments an
    //! atomic counter (async-signal-safe; no printing, no allocation, no exit in the handler),
    //! with `sigaction` and no `SA_RESTART`. It also blocks those signals, so they can only be
    //! delivered while the program is waiting in [`Catcher::sleep`] or [`Catcher::wait_fd`],
    //! which unblock them atomically with `ppoll` (no window in which a signal is caught just
    //! before the program goes to sleep and then ignored for the whole sleep). The main loop
    //! then reads the counters with [`Catcher::take`] and reacts.
    //!
    //! For system calls that cannot be polled (opening a FIFO), [`Catcher::unblocked`] runs the
    //! call with the signals unblocked, so that it fails with `EINTR` when one arrives.

    use nix::errno::Errno;
    use nix::poll::{ppoll, PollFd, PollFlags};
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
    use nix::sys::time::TimeSpec;
    use std::os::fd::BorrowedFd;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    const NSIG: usize = 65;
    static COUNTS: [AtomicU32; NSIG] = [const { AtomicU32::new(0) }; NSIG];

    extern "C" fn on_signal(signum: libc::c_int) {
        // Only an atomic store: async-signal-safe.
        if let Some(count) = COUNTS.get(signum as usize) {
            count.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// What ended a wait.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Woken {
        /// The file descriptor is ready.
        Ready,
        /// A caught signal arrived.
        Signal,
        /// The timeout passed.
        Timeout,
    }

    /// Handlers installed for some signals, which stay blocked outside the waits.
    pub struct Catcher {
        caught: SigSet,
        /// The mask in force while waiting: the original one without the caught signals.
        wait_mask: SigSet,
    }

    impl Catcher {
        /// Install the handlers (no `SA_RESTART`) and block the signals.
        pub fn new(signals: &[Signal]) -> nix::Result<Catcher> {
            let mut caught = SigSet::empty();
            for &s in signals {
                caught.add(s);
            }
            let mut old = SigSet::empty();
            nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&caught), Some(&mut old))?;
            let action = SigAction::new(
                SigHandler::Handler(on_signal),
                SaFlags::empty(),
                SigSet::empty(),
            );
            for &s in signals {
                // SAFETY: the handler only touches an atomic.
                unsafe { sigaction(s, &action) }?;
            }
            let mut wait_mask = old;
            for &s in signals {
                wait_mask.remove(s);
            }
            Ok(Catcher { caught, wait_mask })
        }

        /// How many times `signal` arrived since the last call (resets the count).
        pub fn take(&self, signal: Signal) -> u32 {
            COUNTS[signal as usize].swap(0, Ordering::SeqCst)
        }

        /// Whether `signal` arrived and has not been taken yet.
        pub fn pending(&self, signal: Signal) -> bool {
            COUNTS[signal as usize].load(Ordering::SeqCst) > 0
        }

        /// Sleep for `duration`, or less if a caught signal arrives: `true` when interrupted.
        pub fn sleep(&self, duration: Duration) -> bool {
            self.wait_fd(None, PollFlags::empty(), Some(duration)) == Woken::Signal
        }

        /// Sleep until `deadline` unless a caught signal arrives first: `true` when interrupted.
        pub fn sleep_until(&self, deadline: Instant) -> bool {
            self.sleep(deadline.saturating_duration_since(Instant::now()))
        }

        /// Wait until `fd` is ready for `events`, a caught signal arrives, or `timeout` passes
        /// (`None`: no timeout; no `fd`: only signals and the timeout).
        pub fn wait_fd(
            &self,
            fd: Option<BorrowedFd<'_>>,
            events: PollFlags,
            timeout: Option<Duration>,
        ) -> Woken {
            let deadline = timeout.map(|t| Instant::now() + t);
            loop {
                let left =
                    deadline.map(|d| TimeSpec::from(d.saturating_duration_since(Instant::now())));
                let mut fds: Vec<PollFd> = fd.iter().map(|&fd| PollFd::new(fd, events)).collect();
                match ppoll(&mut fds, left, Some(self.wait_mask)) {
                    Ok(0) => return Woken::Timeout,
                    Ok(_) => return Woken::Ready,
                    Err(Errno::EINTR) if self.any_pending() => return Woken::Signal,
                    // Interrupted by something we do not catch (e.g. SIGCONT): wait on.
                    Err(Errno::EINTR) => {}
                    Err(e) => panic!("ppoll failed: {e}"),
                }
            }
        }

        /// Run a blocking system call with the caught signals unblocked, so that it is
        /// interrupted (`EINTR`) by them. Returns `None`, without calling `f`, when a caught
        /// signal is already pending.
        pub fn unblocked<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
            let _ = self.set_mask(SigmaskHow::SIG_UNBLOCK);
            let result = if self.any_pending() { None } else { Some(f()) };
            let _ = self.set_mask(SigmaskHow::SIG_BLOCK);
            result
        }

        fn set_mask(&self, how: SigmaskHow) -> nix::Result<()> {
            nix::sys::signal::sigprocmask(how, Some(&self.caught), None)
        }

        /// Whether any caught signal is waiting to be taken.
        pub fn any_pending(&self) -> bool {
            self.caught
                .iter()
                .any(|s| COUNTS[s as usize].load(Ordering::SeqCst) > 0)
        }
    }
}

pub mod out {
    //! Writing raw bytes to standard output, flushed at once.

    use std::io::Write;

    /// Print `prefix`, the raw bytes of `value`, and a newline, then flush.
    pub fn line_raw(prefix: &str, value: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(prefix.as_bytes());
        let _ = out.write_all(value);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::image::*;
    use super::rng::Rng;

    #[test]
    fn lines_frame_is_mostly_white_and_opaque() {
        let mut rng = Rng::with_seed(42);
        let img = random_lines_frame(&mut rng);
        assert_eq!(img.pixels.len(), FRAME_BYTES);
        assert!(img.pixels.chunks_exact(4).all(|p| p[3] == 255));
        let white = img
            .pixels
            .chunks_exact(4)
            .filter(|p| p[..3] == [255, 255, 255])
            .count();
        let total = FRAME_WIDTH * FRAME_HEIGHT;
        assert!(white > total / 3 && white < total, "white={white}");
    }

    #[test]
    fn bresenham_hits_both_ends() {
        let mut img = Image::new(10, 10, 0, 0, 0, 255);
        img.line(1, 8, 7, 2, 9, 9, 9);
        assert_eq!(img.pixel(1, 8), [9, 9, 9, 255]);
        assert_eq!(img.pixel(7, 2), [9, 9, 9, 255]);
        assert_eq!(img.pixel(4, 5), [9, 9, 9, 255]);
    }

    #[test]
    fn range_is_inclusive() {
        let mut rng = Rng::with_seed(1);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = rng.range(10, 13);
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
