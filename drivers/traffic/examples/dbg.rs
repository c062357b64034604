#![allow(clippy::unwrap_used)]
use std::time::Duration;
use benchtop_traffic::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() > 1 && a[1] == "sink" {
        limits::ensure_open_files(12000).unwrap();
        let s = sink::start(&SinkConfig::default(), None, benchtop_drivers::worker::noop_waker()).unwrap();
        println!("{}", s.local_addr());
        loop { std::thread::sleep(Duration::from_secs(1)); eprintln!("sink {:?}", s.totals()); }
    }
    let mut c = SendConfig::new(a[1].parse().unwrap());
    c.connections = a[2].parse().unwrap();
    c.duration = Some(Duration::from_secs(a[3].parse().unwrap()));
    c.ramp_up = Duration::from_secs(1);
    c.size = 16384;
    c.method = a.get(4).map(|m| m.parse().unwrap()).unwrap_or(Method::Copy);
    let (tx, rx) = crossbeam_channel::bounded(1000);
    let _h = send::start(c, tx, benchtop_drivers::worker::noop_waker()).unwrap();
    let mut i = 0;
    for e in rx { match e { TrafficEvent::Stats(s) => { i += 1; if i % 5 == 0 { println!("{:.1}s up {} {:.2} Gbit/s errs {:?} retr {} cpu {:.0}%", s.elapsed.as_secs_f64(), s.connections_up, s.gbit_per_s, s.errors.kinds(), s.retransmits, s.cpu_percent); } } TrafficEvent::Finished(s) => { println!("{s:?}"); break } e => println!("{e:?}") } }
}
