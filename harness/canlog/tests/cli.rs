//! The `canlog` commands, run in-process with captured output.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ovms_canlog::cli::{run_with, CanlogCli, CanlogCommand, CliError};
use ovms_canlog::{open, Format, ReadOptions};

fn log(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/logs")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("canlog-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn run(cmd: CanlogCommand) -> (Result<ExitCode, CliError>, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let r = run_with(cmd, &mut out, &mut err);
    (
        r,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn parse(args: &[&str]) -> CanlogCommand {
    let mut v = vec!["canlog"];
    v.extend_from_slice(args);
    CanlogCli::try_parse_from(v).unwrap().command
}

#[test]
fn info_json_for_the_kona_two_bus_log() {
    let file = log("kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv");
    let (r, out, _) = run(parse(&["info", file.to_str().unwrap(), "--json"]));
    assert_eq!(r.unwrap(), ExitCode::SUCCESS);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "gvret-csv");
    assert_eq!(v["frames"], 39_546);
    assert_eq!(v["buses"]["0"], 24_263);
    assert_eq!(v["buses"]["1"], 15_283);
    assert_eq!(v["distinct_ids"], 136);
    assert_eq!(v["first_ts_ns"], 1_953_613_500_000i64);
    let interleave = v["warnings"]["counts"]["bus_interleaving"]
        .as_u64()
        .unwrap();
    let backward = v["warnings"]["counts"]["backward_timestamp"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(interleave + backward, 1_845);
    assert!(v["warnings"]["first"][0]["line"].as_u64().unwrap() > 1);
}

#[test]
fn info_text_for_the_tesla_candump_export() {
    let file = log("tesla-model-s_savvycan-example.candump.log");
    let (r, out, _) = run(parse(&["info", file.to_str().unwrap()]));
    assert!(r.is_ok());
    assert!(out.contains("format:    candump\n"), "{out}");
    assert!(out.contains("frames:    12974\n"), "{out}");
    assert!(out.contains("duration:  8.000000000 s"), "{out}");
    assert!(out.contains("ids:       180 distinct"), "{out}");
    assert!(out.contains("whole_second_timestamps: 1"), "{out}");
}

#[test]
fn convert_by_extension_and_by_flag() {
    let src = log("tesla-model-s_savvycan-example.gvret.csv");
    for (out_name, to, want) in [
        ("t.log", None, Format::Candump),
        ("t.crtd", None, Format::Crtd),
        ("t.csv", None, Format::GvretCsv),
        ("t.txt", Some(Format::Crtd), Format::Crtd),
    ] {
        let out = tmp(out_name);
        let cmd = CanlogCommand::Convert {
            input: src.clone(),
            output: out.clone(),
            to,
            format: None,
            lenient: false,
        };
        let (r, _, err) = run(cmd);
        assert_eq!(r.unwrap(), ExitCode::SUCCESS);
        assert!(err.contains("12974 records written"), "{err}");
        let reader = open(&out, &ReadOptions::default()).unwrap();
        assert_eq!(reader.format(), want);
        assert_eq!(reader.frames().count(), 12_974);
    }
}

#[test]
fn usage_errors_exit_2_and_bad_input_exits_1() {
    let src = log("tesla-model-s_savvycan-example.gvret.csv");
    let (r, _, _) = run(CanlogCommand::Convert {
        input: src.clone(),
        output: tmp("x.unknown"),
        to: None,
        format: None,
        lenient: false,
    });
    assert_eq!(r.unwrap_err().code(), 2);
    let (r, _, _) = run(CanlogCommand::Convert {
        input: src,
        output: tmp("x.trc"),
        to: Some(Format::PeakTrc),
        format: None,
        lenient: false,
    });
    assert_eq!(r.unwrap_err().code(), 2);
    let same = tmp("same.log");
    std::fs::write(&same, "(1.0) can0 123#00\n").unwrap();
    let (r, _, _) = run(CanlogCommand::Convert {
        input: same.clone(),
        output: same.clone(),
        to: None,
        format: None,
        lenient: false,
    });
    assert_eq!(r.unwrap_err().code(), 2);
    assert_eq!(
        std::fs::read_to_string(&same).unwrap(),
        "(1.0) can0 123#00\n",
        "input untouched"
    );
    let not_log = log("tesla-roadster_20120218.drive-a.decoded.txt");
    let (r, _, _) = run(parse(&["info", not_log.to_str().unwrap()]));
    let e = r.unwrap_err();
    assert_eq!(e.code(), 1);
    assert!(
        e.to_string()
            .contains("decoded.txt:1:1: expected a CAN log"),
        "{e}"
    );
    let (r, _, _) = run(parse(&["cat", "/nonexistent/file.log"]));
    assert_eq!(r.unwrap_err().code(), 1);
    // A malformed line fails strictly at its location, and lenient mode goes on.
    let bad = tmp("bad.log");
    std::fs::write(
        &bad,
        "(1.0) can0 123#00\n(1.1) can0 12#00\n(1.2) can0 124#01\n",
    )
    .unwrap();
    let (r, _, _) = run(parse(&["cat", bad.to_str().unwrap()]));
    assert!(r.unwrap_err().to_string().ends_with("bad.log:2:12: expected a CAN ID of 3 hex digits (11-bit) or 8 hex digits (29-bit), found \"12#00\""));
    let (r, out, _) = run(parse(&["cat", bad.to_str().unwrap(), "--lenient"]));
    assert!(r.is_ok());
    assert_eq!(out, "(1.000000) can0 123#00\n(1.200000) can0 124#01\n");
    // Unknown format names are rejected by the parser (clap exits 2).
    let e = CanlogCli::try_parse_from(["canlog", "cat", "x", "--format", "blf"]).unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn cat_prints_candump_lines() {
    let file = log("tesla-model-s_savvycan-example.crtd.txt");
    let (r, out, _) = run(parse(&["cat", file.to_str().unwrap()]));
    assert!(r.is_ok());
    assert_eq!(out.lines().count(), 12_974);
    assert_eq!(
        out.lines().next().unwrap(),
        "(166.064000) can0 21A#FE3612FE690507AD"
    );
}

struct ClosedPipe(usize);

impl Write for ClosedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe));
        }
        self.0 -= 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn cat_into_a_closed_pipe_exits_0() {
    let file = log("hyundai-kona-ice_turnonlog.candump.log");
    let mut out = ClosedPipe(3);
    let mut err = Vec::new();
    let r = run_with(parse(&["cat", file.to_str().unwrap()]), &mut out, &mut err);
    assert_eq!(r.unwrap(), ExitCode::SUCCESS);
    // Any other write failure is an error.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let r = run_with(parse(&["cat", file.to_str().unwrap()]), &mut Full, &mut err);
    assert_eq!(r.unwrap_err().code(), 1);
}

#[test]
fn parser_shapes() {
    assert_eq!(
        parse(&[
            "convert",
            "in.csv",
            "out.log",
            "--to",
            "candump",
            "--format",
            "gvret-csv",
            "--lenient"
        ]),
        CanlogCommand::Convert {
            input: "in.csv".into(),
            output: "out.log".into(),
            to: Some(Format::Candump),
            format: Some(Format::GvretCsv),
            lenient: true
        }
    );
    assert_eq!(
        parse(&["info", "f", "--json"]),
        CanlogCommand::Info {
            file: "f".into(),
            json: true,
            format: None,
            lenient: false
        }
    );
}
