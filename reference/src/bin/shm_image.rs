//! shm_image (the writer side of the lecture's ImageSharedMemory): attaches to the existing
//! POSIX shared memory segment `imageMap` (/dev/shm/imageMap), checks it holds at least
//! 400x400x4 bytes, writes one RGBA image of random lines on white into it and exits 0
//! without unlinking it. Without the segment: a message on stderr, exit 1, nothing created.
//!
//! Scenarios: `shm_image.content`, `shm_image.kept`, `shm_image.missing`.

use nix::fcntl::OFlag;
use nix::sys::mman::{mmap, munmap, shm_open, MapFlags, ProtFlags};
use nix::sys::stat::{fstat, Mode};
use reference::image::{random_lines_frame, FRAME_BYTES, SEGMENT};
use reference::rng::Rng;
use std::num::NonZeroUsize;
use std::process::exit;

fn fail(message: String) -> ! {
    eprintln!("shm_image: {message}");
    exit(1);
}

fn main() {
    // No O_CREAT: attach to the viewer's segment or fail.
    let fd = shm_open(SEGMENT, OFlag::O_RDWR, Mode::empty())
        .unwrap_or_else(|e| fail(format!("cannot open shared memory {SEGMENT}: {e}")));
    let size = fstat(&fd)
        .unwrap_or_else(|e| fail(format!("fstat {SEGMENT}: {e}")))
        .st_size;
    if size < FRAME_BYTES as i64 {
        fail(format!(
            "{SEGMENT} holds {size} bytes, {FRAME_BYTES} needed"
        ));
    }

    let image = random_lines_frame(&mut Rng::from_entropy());
    let len = NonZeroUsize::new(FRAME_BYTES).expect("non-zero");
    // SAFETY: a fresh shared mapping of `len` bytes, written only through this slice while
    // it lives and unmapped afterwards.
    unsafe {
        let map = mmap(
            None,
            len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            &fd,
            0,
        )
        .unwrap_or_else(|e| fail(format!("mmap {SEGMENT}: {e}")));
        std::slice::from_raw_parts_mut(map.as_ptr().cast::<u8>(), FRAME_BYTES)
            .copy_from_slice(&image.pixels);
        munmap(map, FRAME_BYTES).unwrap_or_else(|e| fail(format!("munmap: {e}")));
    }
    println!("wrote one image to {SEGMENT}");
}
