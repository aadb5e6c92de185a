//! A headless stand-in for a PyQt window, speaking the protocol of the harness's Qt driver
//! (`harness/assets/qt_sysgrade_driver.py`) on the socket named by `SYSGRADE_QT_SOCKET`:
//! JSON lines `{"id", "cmd": "click" | "set" | "get" | "image" | "close", ...}`, one reply
//! each, and `{"event": "ready"}` once the loop runs. A reference program describes its window
//! as a [`Window`] (named widgets, a timer, the image its label shows) and calls [`run`]: a
//! viewer is a window of labels (the defaults), a writer a [`Form`] with its [`Output`].
//! Without the variable the loop still runs its timer, until SIGTERM.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// What the harness can do with a window.
pub trait Window {
    /// The objectNames of its widgets.
    fn widgets(&self) -> Vec<&'static str>;
    /// Clicks button `name`; its text afterwards. By default there are no buttons.
    fn click(&mut self, name: &str) -> Result<String, String> {
        Err(format!("{name:?} is not a button"))
    }
    /// Sets widget `name`; the value it then holds. By default nothing can be set.
    fn set(&mut self, name: &str, _value: &Value) -> Result<Value, String> {
        Err(format!("cannot set {name:?}"))
    }
    /// By default every widget is a label without text.
    fn get(&self, name: &str) -> Result<Value, String> {
        if self.widgets().contains(&name) {
            Ok(json!(""))
        } else {
            Err(format!("no widget has objectName {name:?}"))
        }
    }
    /// The image its label shows: width, height, RGBA bytes.
    fn shown(&mut self) -> Option<(usize, usize, Vec<u8>)> {
        None
    }
    /// The running timer's period, if any.
    fn period(&self) -> Option<Duration> {
        None
    }
    fn tick(&mut self) {}
    /// The window closes (its closeEvent).
    fn close(&mut self);
}

/// A wait for the label to show an image.
struct Pending {
    id: Value,
    want: (u64, u64, String),
    deadline: Instant,
}

/// Runs `window` until the harness closes it.
pub fn run(window: &mut dyn Window) {
    let mut conn = std::env::var_os("SYSGRADE_QT_SOCKET").and_then(|p| UnixStream::connect(p).ok());
    let reader = conn.as_ref().and_then(|c| c.try_clone().ok());
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    if let Some(reader) = reader {
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
    }
    let mut send = |v: Value| {
        if let Some(c) = conn.as_mut() {
            let _ = c.write_all(format!("{v}\n").as_bytes());
        }
    };
    send(json!({"event": "hello", "pid": std::process::id()}));
    send(json!({"event": "ready", "binding": "reference", "widgets": window.widgets()}));
    let mut next_tick: Option<Instant> = None;
    let mut pending: Option<Pending> = None;
    loop {
        match (window.period(), next_tick) {
            (Some(p), None) => next_tick = Some(Instant::now() + p),
            (None, Some(_)) => next_tick = None,
            _ => {}
        }
        if let Some(at) = next_tick.filter(|at| Instant::now() >= *at) {
            window.tick();
            next_tick = window.period().map(|p| at.max(Instant::now() - p) + p);
        }
        if let Some(p) = pending.take() {
            let shown = window.shown();
            let matched = shown.as_ref().is_some_and(|(w, h, b)| {
                (*w as u64, *h as u64) == (p.want.0, p.want.1) && encode(b) == p.want.2
            });
            if matched || Instant::now() >= p.deadline {
                let image =
                    shown.map(|(w, h, b)| json!({"width": w, "height": h, "rgba": encode(&b)}));
                send(json!({"id": p.id, "ok": true, "matched": matched, "image": image}));
            } else {
                pending = Some(p);
            }
        }
        let mut wait = next_tick.map_or(Duration::from_millis(500), |at| {
            at.saturating_duration_since(Instant::now())
        });
        if pending.is_some() {
            wait = wait.min(Duration::from_millis(10));
        }
        let Ok(request) = rx.recv_timeout(wait) else {
            continue;
        };
        let id = request["id"].clone();
        let name = request["name"].as_str().unwrap_or("");
        let reply = match request["cmd"].as_str().unwrap_or("") {
            "click" => window.click(name).map(|text| json!({"text": text})),
            "set" => window
                .set(name, &request["value"])
                .map(|v| json!({"value": v})),
            "get" => window.get(name).map(|v| json!({"value": v})),
            "image" => {
                let want = &request["want"];
                let ms = request["within_ms"].as_u64().unwrap_or(1000);
                pending = Some(Pending {
                    id,
                    want: (
                        want["width"].as_u64().unwrap_or(0),
                        want["height"].as_u64().unwrap_or(0),
                        want["rgba"].as_str().unwrap_or("").to_string(),
                    ),
                    deadline: Instant::now() + Duration::from_millis(ms),
                });
                continue;
            }
            "close" => {
                window.close();
                send(json!({"id": id, "ok": true, "windows": 1, "closed": 1}));
                return;
            }
            other => Err(format!("unknown command {other:?}")),
        };
        send(match reply {
            Ok(mut fields) => {
                fields["id"] = id;
                fields["ok"] = json!(true);
                fields
            }
            Err(e) => json!({"id": id, "ok": false, "error": e}),
        });
    }
}

/// A viewer's size: `--width`/`-w` and `--height`/`-ht` on the command line, 400 each.
pub fn size_option() -> (usize, usize) {
    let args: Vec<String> = std::env::args().collect();
    let option = |names: &[&str]| {
        args.windows(2)
            .find(|w| names.contains(&w[0].as_str()))
            .and_then(|w| w[1].parse().ok())
            .unwrap_or(400)
    };
    (option(&["-w", "--width"]), option(&["-ht", "--height"]))
}

/// A spin box's value from a JSON number or numeric string.
pub fn number(value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .or_else(|| value.as_str()?.trim().parse().ok())
        .ok_or_else(|| format!("{value} is not a number"))
}

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The writers' form (form.ui): `start_sim`, `timer_duration`, `mode`, `fifo_name`, `width`,
/// `height`, and the frame a tick draws in the chosen mode.
pub struct Controls {
    pub running: bool,
    pub period_ms: i64,
    pub mode: i64,
    pub fifo_name: String,
    pub width: i64,
    pub height: i64,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            running: false,
            period_ms: 100,
            mode: 0,
            fifo_name: "imagefifo".into(),
            width: 400,
            height: 400,
        }
    }
}

impl Controls {
    pub const WIDGETS: [&'static str; 6] = [
        "fifo_name",
        "height",
        "mode",
        "start_sim",
        "timer_duration",
        "width",
    ];

    /// `start_sim` toggles the timer; its text says what the next click does.
    pub fn click(&mut self, name: &str) -> Result<String, String> {
        if name != "start_sim" {
            return Err(format!("{name:?} is not a button"));
        }
        self.running = !self.running;
        Ok(if self.running { "Stop" } else { "Start" }.into())
    }

    /// Sets a widget, clamped as the form's spin boxes are.
    pub fn set(&mut self, name: &str, value: &Value) -> Result<Value, String> {
        match name {
            "timer_duration" => self.period_ms = number(value)?.clamp(10, 5000),
            "mode" => self.mode = number(value)?.clamp(0, 2),
            "width" => self.width = number(value)?.clamp(1, 2000),
            "height" => self.height = number(value)?.clamp(1, 2000),
            "fifo_name" => self.fifo_name = value.as_str().unwrap_or_default().to_string(),
            _ => return Err(format!("no widget has objectName {name:?}")),
        }
        self.get(name)
    }

    pub fn get(&self, name: &str) -> Result<Value, String> {
        Ok(match name {
            "timer_duration" => json!(self.period_ms),
            "mode" => json!(self.mode),
            "width" => json!(self.width),
            "height" => json!(self.height),
            "fifo_name" => json!(self.fifo_name),
            "start_sim" => json!(if self.running { "Stop" } else { "Start" }),
            _ => return Err(format!("no widget has objectName {name:?}")),
        })
    }

    pub fn period(&self) -> Option<Duration> {
        self.running
            .then(|| Duration::from_millis(self.period_ms.max(1) as u64))
    }

    /// A frame in the chosen mode: lines on white, a checker, random pixels.
    pub fn draw(&self, rng: &mut crate::rng::Rng) -> crate::image::Image {
        let (w, h) = (self.width.max(1) as usize, self.height.max(1) as usize);
        let mut image = crate::image::Image::new(w, h, 255, 255, 255, 255);
        match self.mode {
            1 => image.checker([20, 20, 20], [250, 250, 250], 8),
            2 => image.random_pixels(rng, 255),
            _ => image.random_lines_on_white(rng, 60),
        }
        image
    }
}

/// Where a writer's frames go (a FIFO, a shared memory segment).
pub trait Output {
    /// Each tick of the running timer: draws a frame as the form says and delivers it.
    fn frame(&mut self, controls: &Controls);
    /// The form's width or height changed.
    fn resized(&mut self, _controls: &Controls) {}
}

/// A writer's window: the form, whose frames go to `output`. Closing it does nothing more.
pub struct Form<O> {
    pub controls: Controls,
    pub output: O,
}

impl<O: Output> Form<O> {
    pub fn new(output: O) -> Form<O> {
        Form {
            controls: Controls::default(),
            output,
        }
    }
}

impl<O: Output> Window for Form<O> {
    fn widgets(&self) -> Vec<&'static str> {
        Controls::WIDGETS.to_vec()
    }
    fn click(&mut self, name: &str) -> Result<String, String> {
        self.controls.click(name)
    }
    fn set(&mut self, name: &str, value: &Value) -> Result<Value, String> {
        let before = (self.controls.width, self.controls.height);
        let now = self.controls.set(name, value)?;
        if (self.controls.width, self.controls.height) != before {
            self.output.resized(&self.controls);
        }
        Ok(now)
    }
    fn get(&self, name: &str) -> Result<Value, String> {
        self.controls.get(name)
    }
    fn period(&self) -> Option<Duration> {
        self.controls.period()
    }
    fn tick(&mut self) {
        self.output.frame(&self.controls);
    }
    fn close(&mut self) {}
}
