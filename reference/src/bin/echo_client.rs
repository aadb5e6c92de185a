//! echo_client (lecture: SimpleSocket/client.py): reads lines from stdin (prompting on
//! stderr); for each line it connects to the server, sends the line (without its newline),
//! closes its sending side, prints the whole reply as `received <reply>` and closes. It exits 0
//! after sending `HUP` or at end of input; a failed connection is an error (message on stderr,
//! exit 1).
//!
//! Options: `--host H` / `-hs H` (default 127.0.0.1), `--port P` / `-p P` (default 65432),
//! also `--host=H`, `--port=P`.
//!
//! Scenarios: `echo_client.exchange`, `echo_client.hup`, `echo_client.refused`.

use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::exit;

fn usage(message: &str) -> ! {
    eprintln!("echo_client: {message}");
    eprintln!("usage: echo_client [--host HOST] [--port PORT]");
    exit(2);
}

/// `(host, port)` from the command line. As with the lecture's argparse (`nargs="?"`), an
/// option given without a value keeps its default.
fn parse_args() -> (String, u16) {
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 65432u16);
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let value = inline.or_else(|| args.next_if(|next| !next.starts_with('-')));
        match (name.as_str(), value) {
            ("--host" | "-hs", Some(v)) => host = v,
            ("--port" | "-p", Some(v)) => {
                port = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("invalid port {v:?}")));
            }
            ("--host" | "-hs" | "--port" | "-p", None) => {}
            _ => usage(&format!("unknown argument {arg:?}")),
        }
    }
    (host, port)
}

/// One exchange: connect, send `data`, read the reply to end of file.
fn exchange(host: &str, port: u16, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect((host, port))?;
    stream.write_all(data)?;
    // Tell the server we are done sending; it replies and closes.
    stream.shutdown(Shutdown::Write)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(reply)
}

fn main() {
    let (host, port) = parse_args();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        eprint!("enter some text HUP to kill >");
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => exit(0),
            Ok(_) => {}
            Err(e) => {
                eprintln!("echo_client: reading stdin: {e}");
                exit(1);
            }
        }
        if line.ends_with(b"\n") {
            line.pop();
            if line.ends_with(b"\r") {
                line.pop();
            }
        }
        match exchange(&host, port, &line) {
            Ok(reply) => reference::out::line_raw("received ", &reply),
            Err(e) => {
                eprintln!("echo_client: cannot talk to {host}:{port}: {e}");
                exit(1);
            }
        }
        if line == b"HUP" {
            exit(0);
        }
    }
}
