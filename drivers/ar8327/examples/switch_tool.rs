//! A minimal stand-in for `benchtop switch lint|convert|trace|regs`, showing how the CLI
//! calls the library:
//!
//! ```text
//! cargo run -p benchtop-ar8327 --example switch_tool -- lint FILE [--json]
//! cargo run -p benchtop-ar8327 --example switch_tool -- convert FILE --to uci|swconfig|etherswitchcfg|dsa|registers
//! cargo run -p benchtop-ar8327 --example switch_tool -- trace FILE --frame "port=1 src=MAC dst=MAC [vid=N]" ...
//! cargo run -p benchtop-ar8327 --example switch_tool -- regs FILE
//! ```

use std::process::ExitCode;

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{self, Format};
use benchtop_ar8327::fwd::{Frame, trace_on};
use benchtop_ar8327::{lint, regs};

fn run(args: &[String]) -> Result<ExitCode, String> {
    let (cmd, file) = match args {
        [c, f, ..] => (c.as_str(), f.as_str()),
        _ => return Err("usage: switch_tool lint|convert|trace|regs FILE [options]".into()),
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let board = Board::generic();
    let imported = formats::import(&text, &board).map_err(|e| format!("{file}: {e}"))?;
    for n in &imported.notes {
        eprintln!("note: {n}");
    }
    match cmd {
        "lint" => {
            let findings = lint::lint(&imported.config);
            if args.iter().any(|a| a == "--json") {
                let json = serde_json::to_string_pretty(&findings).map_err(|e| e.to_string())?;
                println!("{json}");
            } else {
                println!("{file}: {} ({} findings)", imported.format, findings.len());
                for f in &findings {
                    println!("{f}");
                    if let Some(fix) = &f.fix {
                        println!("    fix: {}", fix.describe());
                    }
                }
            }
            Ok(if lint::has_errors(&findings) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        "convert" => {
            let to = args
                .iter()
                .position(|a| a == "--to")
                .and_then(|i| args.get(i + 1))
                .ok_or("convert needs --to FORMAT")?;
            let to: Format = to
                .parse()
                .map_err(|e: benchtop_ar8327::SwitchError| e.to_string())?;
            let out = formats::export(&imported.config, to, &board);
            for w in &out.warnings {
                eprintln!("warning: {w}");
            }
            print!("{}", out.text);
            Ok(ExitCode::SUCCESS)
        }
        "trace" => {
            let mut frames = Vec::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "--frame" {
                    let f: Frame = it
                        .next()
                        .ok_or("--frame needs a value")?
                        .parse()
                        .map_err(|e: benchtop_ar8327::SwitchError| e.to_string())?;
                    frames.push(f);
                }
            }
            let mut sim = imported.simulator();
            for (i, step) in trace_on(&mut sim, &frames).iter().enumerate() {
                println!("frame {}: {step}", i + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        "regs" => {
            for r in regs::register_view(&imported.config) {
                let fields: Vec<String> = r
                    .fields
                    .iter()
                    .map(|f| format!("{}={}", f.name, f.meaning))
                    .collect();
                println!(
                    "0x{:04x} {:<16} 0x{:08x}  page {} phy 0x{:02x} reg 0x{:02x}  {}",
                    r.addr,
                    r.name,
                    r.value,
                    r.mdio.page,
                    r.mdio.phy,
                    r.mdio.reg,
                    fields.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command \"{other}\"")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
