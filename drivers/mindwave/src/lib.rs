//! NeuroSky MindWave support for benchtop, without any GUI:
//!
//! - [`protocol`]: the pure ThinkGear codec (streaming decoder, packet and dongle-command
//!   encoders, JSON lines for `benchtop mindwave decode --json`).
//! - [`driver`]: a [`benchtop_drivers::Protocol`] that finds sync, pairs the dongle with a
//!   headset (C0/C1/C2 and the D0–D4 status rows), re-pairs after link loss and emits raw
//!   samples in batches with sample-clock timestamps.
//! - [`sim`]: a headset + dongle simulator ([`benchtop_drivers::sim::SimDevice`]) producing
//!   plausible EEG (pink background, alpha, mains hum, blinks, muscle bursts, electrode-off).
//! - [`dsp`]: µV scaling, filters (notch, band-pass), Welch spectra, band powers, blink and
//!   clipping detection.
//! - [`edf`]: EDF+ writer/reader with crash repair, raw byte capture and CSV export.
//! - [`analysis`]: the live analysis stage (filters, Welch, bands, spectrogram, blinks,
//!   clipping) and [`live`]: the protocol the panel runs, which wraps the driver with the
//!   analysis and an EDF+ recorder inside the worker thread.
//! - [`record`]: headless recording (source → EDF+ for N seconds), the event → EDF+
//!   recorder the panel can reuse, and EDF+ replay.
//!
//! # Wiring
//!
//! `benchtop mindwave decode FILE --json`:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let file = std::fs::File::open("capture.bin")?;
//! let stdout = std::io::stdout().lock();
//! let counters = benchtop_mindwave::decode_to_json_lines(std::io::BufReader::new(file), stdout)?;
//! # let _ = counters; Ok(()) }
//! ```
//!
//! `benchtop mindwave record --sim --seconds 10 --out x.edf`:
//!
//! ```no_run
//! use benchtop_mindwave::record::{self, RecordOptions, RecordSource};
//! use benchtop_mindwave::{PairMode, SimOptions};
//! # fn main() -> Result<(), benchtop_mindwave::record::RecordError> {
//! let mut opts = RecordOptions::new(RecordSource::Sim(SimOptions::default()), 10.0, "x.edf".into());
//! opts.pairing = PairMode::Auto; // or PairMode::Headset(0x0505); RecordSource::Port("/dev/ttyUSB0".into())
//! let summary = record::record(&opts, |state| eprintln!("{}", state.words()))?;
//! # let _ = summary; Ok(()) }
//! ```
//!
//! The panel: start a worker with [`benchtop_drivers::worker::spawn`] and a
//! [`LiveProtocol`] (the simulator via [`sim::spawn_pty`]), drain [`LiveEvent`]s each
//! frame (samples with their filtered values, analysis frames, recording progress) and send
//! [`LiveCommand`]s (pairing, analysis settings, start/stop recording).

pub mod analysis;
pub mod driver;
pub mod dsp;
pub mod edf;
pub mod live;
pub mod protocol;
pub mod record;
pub mod sim;

pub use analysis::{AnalysisFrame, AnalysisSettings, Analyzer, SignalChoice};
pub use driver::{
    DongleLink, DriverConfig, MindwaveCommand, MindwaveEvent, MindwaveProtocol, PairMode,
    PairingState,
};
pub use live::{LiveCommand, LiveConfig, LiveEvent, LiveProtocol, RecordingState, RecordingStatus};
pub use protocol::{AsicBands, Counters, Decoder, DongleCommand, Value, decode_to_json_lines};
pub use sim::{MindwaveSim, Scenario, SimControl, SimOptions};

/// Microvolts per raw count: 1.8 V / 4096 / 2000 (gain) = 0.2197 µV.
pub const UV_PER_COUNT: f64 = 1.8e6 / 4096.0 / 2000.0;
