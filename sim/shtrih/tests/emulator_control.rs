//! The control socket's line protocol, end to end: faults flipped over the
//! socket show up on the wire, `tape` / `archive` / `status` report what
//! the device printed and signed, bad lines get `error: …`.

mod emulator_support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use emulator_support::*;
use sim_shtrih::control::ControlServer;

struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    fn connect(path: &std::path::Path) -> Client {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        Client {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// Sends a line; returns the reply lines, the last being ok/error.
    fn send(&mut self, line: &str) -> Vec<String> {
        writeln!(self.writer, "{line}").unwrap();
        let mut out = Vec::new();
        loop {
            let mut l = String::new();
            assert!(self.reader.read_line(&mut l).unwrap() > 0, "socket closed");
            let l = l.trim_end().to_string();
            let end = l == "ok" || l.starts_with("error: ");
            out.push(l);
            if end {
                return out;
            }
        }
    }
}

#[test]
fn control_socket_drives_faults_and_reports_state() {
    let b = Bench::start();
    let sock = b.dir.path().join("ctl.sock");
    let _server = ControlServer::start(&sock, b.emu.control()).unwrap();
    let mut c = Client::connect(&sock);
    let mut p = b.port();

    assert_eq!(c.send("paper-out"), vec!["ok"]);
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x6B]);
    assert!(c.send("status").contains(&"paper out".to_string()));
    assert_eq!(c.send("paper-in"), vec!["ok"]);
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x00, 1]);

    assert_eq!(c.send("cover-open"), vec!["ok"]);
    let st = p.ok(&[0x10], &SYSADMIN, &[]);
    assert_ne!(u16::from_le_bytes([st[1], st[2]]) & (1 << 10), 0);
    c.send("cover-close");

    c.send("garble 1");
    p.send(&frame(&body(&[0x10], &SYSADMIN, &[])));
    assert_eq!(p.byte(), ACK);
    let head = p.read_n(2, TIMEOUT);
    let rest = p.read_n(head[1] as usize + 1, TIMEOUT);
    let lrc = rest[..rest.len() - 1].iter().fold(head[1], |a, b| a ^ b);
    assert_ne!(lrc, *rest.last().unwrap());
    p.send(&[ENQ]);
    assert_eq!(p.byte(), ACK);
    p.read_frame();
    p.send(&[ACK]);

    // Power cut armed over the socket for the Z-report.
    assert_eq!(c.send("power-cut-after 41"), vec!["ok"]);
    p.send(&frame(&body(&[0x41], &SYSADMIN, &[])));
    assert_eq!(p.byte(), ACK);
    assert!(p.silent(std::time::Duration::from_millis(300)).is_empty());
    assert!(c.send("status").contains(&"powered false".to_string()));
    assert_eq!(c.send("power-on"), vec!["ok"]);
    let archive = c.send("archive");
    assert!(
        archive.iter().any(|l| l.starts_with("FD 3 type 5 ")),
        "{archive:?}"
    );
    let tape = c.send("tape").join("\n");
    assert!(tape.contains("ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ"), "{tape}");
    assert!(tape.contains("ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"), "{tape}");

    assert_eq!(c.send("advance-clock 90000"), vec!["ok"]);
    assert!(c.send("explode")[0].starts_with("error: unknown command"));
    assert!(c.send("slow x")[0].starts_with("error: bad milliseconds"));
    assert!(c.send("help")[0].contains("power-cut-after"));
}
