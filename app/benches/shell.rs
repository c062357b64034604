//! Shell figures, measured on the real release binary in a real X window:
//! - start to first frame (target ≤ 0.5 s)
//! - idle CPU with nothing streaming (target ≤ 1 % of a core), and with every simulator
//!   streaming (frames paced to ~20/s by the shell's waker)
//! - whole-process CPU and frames per second with each tab in front, every simulator on,
//!   1200×800 window (targets: Switch, USB, Echo ≤ 10 % of a core; MindWave, Power ≤ 60 %
//!   under software GL)
//!
//! Run: `cargo bench -p benchtop --bench shell` (uses $DISPLAY, or starts Xvfb on :77).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_benchtop");

fn ticks_per_sec() -> f64 {
    // USER_HZ is 100 on every Linux we run on.
    100.0
}

/// utime + stime of a process, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = f[11].parse().expect("utime");
    let stime: f64 = f[12].parse().expect("stime");
    (utime + stime) / ticks_per_sec()
}

fn ensure_display() -> Option<Child> {
    if std::env::var_os("DISPLAY").is_some() {
        return None;
    }
    let x = Command::new("Xvfb")
        .args([":77", "-screen", "0", "1280x860x24"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("no $DISPLAY and Xvfb could not start (apt-get install xvfb)");
    std::thread::sleep(Duration::from_millis(500));
    Some(x)
}

fn display() -> String {
    std::env::var("DISPLAY").unwrap_or_else(|_| ":77".into())
}

fn app(args: &[&str], home: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("DISPLAY", display())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_LOG", "error");
    c
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("shell: benchmark");
        return;
    }
    let x = ensure_display();
    let home = std::env::temp_dir().join(format!("benchtop-bench-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");

    // 1. Start to first frame, 10 runs.
    let mut wall = Vec::new();
    let mut inside = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let mut child = app(&["--exit-after-first-frame"], &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn benchtop");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        wall.push(t0.elapsed().as_secs_f64() * 1000.0);
        let ms: f64 = line
            .trim()
            .strip_prefix("first-frame-ms=")
            .unwrap_or_else(|| panic!("unexpected output {line:?}"))
            .parse()
            .expect("ms");
        inside.push(ms);
        let _ = child.wait();
    }
    println!(
        "start→first frame (spawn to frame drawn): median {:.0} ms, p90 {:.0} ms, max {:.0} ms  [target ≤ 500 ms]",
        percentile(&mut wall, 0.5),
        percentile(&mut wall, 0.9),
        percentile(&mut wall, 1.0)
    );
    println!(
        "  of which main() to first frame: median {:.0} ms",
        percentile(&mut inside, 0.5)
    );

    // 2. Idle CPU: nothing streaming (--no-sim), then with the simulators on.
    for (label, args, target) in [
        (
            "idle, nothing streaming (--no-sim)",
            vec!["--no-sim"],
            "[target ≤ 1 %]",
        ),
        (
            "every simulator streaming (MindWave 512 Hz in view, ath console, RedBoot, switch, echo)",
            vec![],
            "[no target: includes drawing ~20 frames/s, here in software OpenGL (llvmpipe) under Xvfb]",
        ),
    ] {
        let mut child = app(&args, &home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_secs(3));
        let c0 = cpu_secs(child.id());
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(20));
        let c1 = cpu_secs(child.id());
        let pct = (c1 - c0) / t0.elapsed().as_secs_f64() * 100.0;
        println!("CPU {label}: {pct:.2} % of one core over 20 s  {target}");
        let _ = child.kill();
        let _ = child.wait();
    }
    // 3. Each tab in front, every simulator on: whole-process CPU and frames drawn.
    println!("each tab in front for 12 s, every simulator streaming, 1200×800 window:");
    for (tab, target) in [
        ("mindwave", Some(60.0)),
        ("console", None),
        ("fleet", None),
        ("switch", Some(10.0)),
        ("power", Some(60.0)),
        ("usb", Some(10.0)),
        ("echo", Some(10.0)),
        ("audit", None),
        ("traffic", None),
    ] {
        let tab_home = home.join(tab);
        let mut child = app(&["--tab", tab], &tab_home)
            .env("RUST_LOG", "benchtop_app::shell=trace")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let frames = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&frames);
        let log = child.stderr.take().expect("stderr");
        let reader = std::thread::Builder::new()
            .name("bench-frames".into())
            .spawn(move || {
                for line in BufReader::new(log).lines().map_while(Result::ok) {
                    if line.contains("] frame ") {
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
            .expect("reader thread");
        std::thread::sleep(Duration::from_secs(5));
        let (c0, f0) = (
            cpu_secs(child.id()),
            frames.load(std::sync::atomic::Ordering::Relaxed),
        );
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(12));
        let (c1, f1) = (
            cpu_secs(child.id()),
            frames.load(std::sync::atomic::Ordering::Relaxed),
        );
        let secs = t0.elapsed().as_secs_f64();
        let pct = (c1 - c0) / secs * 100.0;
        let fps = (f1 - f0) as f64 / secs;
        let verdict = match target {
            Some(t) if pct <= t => format!("[target ≤ {t:.0} %: met]"),
            Some(t) => format!("[target ≤ {t:.0} %: NOT met]"),
            None => "[no target]".to_owned(),
        };
        println!("  {tab:<9} {pct:5.1} % of one core, {fps:4.1} frames/s  {verdict}");
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
    }
    let _ = std::fs::remove_dir_all(&home);
    if let Some(mut x) = x {
        let _ = x.kill();
    }
}
