//! The lecture's image segment made by the harness, for a program that only attaches to it
//! (`shm_image`, `shm_writer_ui`): made inside the run's namespaces before the program starts,
//! owned by the run's identity, and read through the harness's own descriptor.

use super::watch::PathWatch;
use super::{IMAGE_BYTES, IMAGE_SEGMENT};
use crate::outcome::Failure;
use crate::run::Run;
use crate::sandbox::reach::Reach;
use crate::scenario::Ctx;
use std::fs::File;

pub struct ImageSegment {
    owner: Option<(u32, u32)>,
    file: Option<File>,
    /// Opens of the segment after the harness's own: the program attaching.
    opens: Option<PathWatch>,
}

impl ImageSegment {
    /// The segment the run's prepare step will make, owned by the scenario's identity (its
    /// name is the exercise's, taken in turns where runs share `/dev/shm`: `Exercise::segments`).
    pub fn new(ctx: &Ctx) -> Result<Self, Failure> {
        Ok(ImageSegment {
            owner: ctx.identity(),
            file: None,
            opens: None,
        })
    }

    /// The run's prepare step: makes the segment and opens it.
    pub fn make(&mut self, reach: &Reach) -> Result<(), Failure> {
        let fault =
            |e: std::io::Error| Failure::fault(format!("making the segment {IMAGE_SEGMENT}: {e}"));
        let path = reach
            .create_shm(IMAGE_SEGMENT, IMAGE_BYTES as u64, self.owner)
            .map_err(fault)?;
        self.file = Some(File::open(&path).map_err(fault)?);
        // Watched once the harness's own open is done: every open from now on is the
        // program's (or its helpers').
        self.opens = PathWatch::opens_and_closes(&path).ok();
        Ok(())
    }

    /// After the start: the harness's descriptor on the segment, readable even if its name is
    /// gone. The segment is the harness's, so it is not the run's leftover.
    pub fn adopt(self, run: &mut Run) -> Result<File, Failure> {
        self.adopt_watched(run).map(|(file, _)| file)
    }

    /// [`ImageSegment::adopt`], with the watch that counts the program's opens of the
    /// segment (`None` where inotify could not watch it).
    pub fn adopt_watched(self, run: &mut Run) -> Result<(File, Option<PathWatch>), Failure> {
        run.allow_shm(IMAGE_SEGMENT);
        let file = self
            .file
            .ok_or_else(|| Failure::fault("no segment handle"))?;
        Ok((file, self.opens))
    }
}

/// Why a writer's attached segment may be gone after it ended (`python`: a Python program),
/// for feedback: " Python before 3.13 registers …" or " The viewer owns the segment: …".
pub fn left_hint(python: bool) -> &'static str {
    if python {
        " Python before 3.13 registers an attached segment with its resource tracker, which unlinks it when the program ends: after attaching, call `resource_tracker.unregister(shm._name, \"shared_memory\")` (from multiprocessing), and only close() the segment, never unlink() it."
    } else {
        " The viewer owns the segment: the writer only unmaps and closes it, without shm_unlink."
    }
}
