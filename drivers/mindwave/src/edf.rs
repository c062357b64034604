//! Recording formats: an EDF+ writer and reader (with crash repair), a raw byte capture
//! writer, and CSV export.
//!
//! EDF+ layout written here: five signals — `EEG Fp1` (raw, µV, 512 samples per 1 s
//! record, digital = raw counts, physical −7200…7199.78 µV), `Attention`, `Meditation`,
//! `Poor signal` (1 sample per record each) and `EDF Annotations` (64 samples = 128 bytes
//! per record) for blinks, poor-signal spans and link drops. Records are appended as they
//! fill (once a second) straight to the file, and the header's record count is rewritten
//! after each one, so any reader opens the file at any moment and a killed writer loses at
//! most the last second ([`repair`] still cuts a torn last record). The file is written
//! beside its name and moved into place with its first complete record: a recording that
//! never got a second of data leaves no file, and the file the user had stays until then.
//! Seconds the device did not deliver (a link gap, zero-filled) are marked "no data" —
//! poor signal 200, attention and meditation 0 — and annotated.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::FileExt as _;

use benchtop_drivers::files::{FileError, Overwrite, PartialFile};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::UV_PER_COUNT;

/// Samples of raw per record (1 s).
pub const RAW_PER_RECORD: usize = 512;
/// Samples (2 bytes each) of the annotation signal per record.
pub const ANNOTATION_SAMPLES: usize = 64;
/// Byte offset of the "number of data records" header field.
const RECORDS_FIELD: u64 = 236;

/// An EDF error.
#[derive(Debug, thiserror::Error)]
pub enum EdfError {
    /// Reading or writing failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What we were doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS's words.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be created or moved into place (it exists, or clashes).
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is not EDF as we understand it.
    #[error("{path} is not a valid EDF file: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> EdfError + 'a {
    move |source| EdfError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// An EDF+ annotation (a TAL entry).
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Seconds from the start of the recording.
    pub onset: f64,
    /// Length in seconds, if it has one.
    pub duration: Option<f64>,
    /// What happened ("blink", "poor signal", "link lost: …").
    pub text: String,
}

impl Annotation {
    fn tal(&self) -> Vec<u8> {
        let mut s = format!("{:+}", Trim(self.onset));
        if let Some(d) = self.duration {
            s.push('\u{15}');
            s.push_str(&format!("{}", Trim(d)));
        }
        s.push('\u{14}');
        // TAL text may not contain the separators.
        s.extend(
            self.text
                .chars()
                .filter(|c| !matches!(*c, '\u{14}' | '\u{15}' | '\0')),
        );
        s.push('\u{14}');
        s.push('\0');
        s.into_bytes()
    }
}

/// Formats seconds with at most 4 decimals and no trailing zeros.
struct Trim(f64);

impl std::fmt::Display for Trim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{:.4}", self.0);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        let s = if s == "-0" { "0" } else { s };
        if f.sign_plus() && !s.starts_with('-') {
            write!(f, "+{s}")
        } else {
            f.write_str(s)
        }
    }
}

/// One signal's header.
#[derive(Debug, Clone, PartialEq)]
pub struct EdfSignal {
    /// Label, e.g. `EEG Fp1`.
    pub label: String,
    /// Transducer type.
    pub transducer: String,
    /// Physical dimension, e.g. `uV`.
    pub physical_dimension: String,
    /// Physical minimum.
    pub physical_min: f64,
    /// Physical maximum.
    pub physical_max: f64,
    /// Digital minimum.
    pub digital_min: i32,
    /// Digital maximum.
    pub digital_max: i32,
    /// Prefiltering.
    pub prefiltering: String,
    /// Samples per data record.
    pub samples_per_record: usize,
}

impl EdfSignal {
    /// Digital value to physical.
    pub fn to_physical(&self, d: i16) -> f64 {
        let span_d = f64::from(self.digital_max - self.digital_min);
        if span_d == 0.0 {
            return f64::from(d);
        }
        let gain = (self.physical_max - self.physical_min) / span_d;
        self.physical_min + (f64::from(d) - f64::from(self.digital_min)) * gain
    }

    fn is_annotations(&self) -> bool {
        self.label.trim() == "EDF Annotations"
    }
}

/// The header of an EDF(+) file.
#[derive(Debug, Clone, PartialEq)]
pub struct EdfHeader {
    /// Patient identification.
    pub patient: String,
    /// Recording identification.
    pub recording: String,
    /// Start date `dd.mm.yy`.
    pub start_date: String,
    /// Start time `hh.mm.ss`.
    pub start_time: String,
    /// Header size in bytes.
    pub header_bytes: usize,
    /// Reserved field (`EDF+C` / `EDF+D` for EDF+).
    pub reserved: String,
    /// Number of data records in the header (−1 while recording).
    pub records_in_header: i64,
    /// Seconds per data record.
    pub record_duration: f64,
    /// The signals.
    pub signals: Vec<EdfSignal>,
}

impl EdfHeader {
    /// Bytes per data record.
    pub fn record_bytes(&self) -> usize {
        self.signals.iter().map(|s| s.samples_per_record * 2).sum()
    }
}

fn field(out: &mut Vec<u8>, s: &str, width: usize) {
    let mut b: Vec<u8> = s
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else {
                b'_'
            }
        })
        .take(width)
        .collect();
    b.resize(width, b' ');
    out.extend_from_slice(&b);
}

/// Formats a number into an 8-character EDF field.
fn num8(v: f64) -> String {
    for decimals in (0..=4).rev() {
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s.len() <= 8 {
            return s;
        }
    }
    format!("{}", v.round() as i64)
}

/// Civil UTC date and time of a `SystemTime` (re-exported from the driver core).
pub use benchtop_drivers::clock::civil_utc;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// The signals this crate writes.
pub fn mindwave_signals() -> Vec<EdfSignal> {
    let one_hz = |label: &str, max: f64| EdfSignal {
        label: label.into(),
        transducer: "NeuroSky eSense/ASIC".into(),
        physical_dimension: String::new(),
        physical_min: 0.0,
        physical_max: max,
        digital_min: 0,
        digital_max: max as i32,
        prefiltering: String::new(),
        samples_per_record: 1,
    };
    vec![
        EdfSignal {
            label: "EEG Fp1".into(),
            transducer: "NeuroSky MindWave dry electrode".into(),
            physical_dimension: "uV".into(),
            physical_min: -32768.0 * UV_PER_COUNT,
            physical_max: 32767.0 * UV_PER_COUNT,
            digital_min: -32768,
            digital_max: 32767,
            prefiltering: "unknown (headset hardware filter)".into(),
            samples_per_record: RAW_PER_RECORD,
        },
        one_hz("Attention", 100.0),
        one_hz("Meditation", 100.0),
        one_hz("Poor signal", 255.0),
        EdfSignal {
            label: "EDF Annotations".into(),
            transducer: String::new(),
            physical_dimension: String::new(),
            physical_min: -1.0,
            physical_max: 1.0,
            digital_min: -32768,
            digital_max: 32767,
            prefiltering: String::new(),
            samples_per_record: ANNOTATION_SAMPLES,
        },
    ]
}

/// Builds the header bytes.
fn header_bytes(h: &EdfHeader) -> Vec<u8> {
    let ns = h.signals.len();
    let mut out = Vec::with_capacity(256 * (ns + 1));
    field(&mut out, "0", 8);
    field(&mut out, &h.patient, 80);
    field(&mut out, &h.recording, 80);
    field(&mut out, &h.start_date, 8);
    field(&mut out, &h.start_time, 8);
    field(&mut out, &(256 * (ns + 1)).to_string(), 8);
    field(&mut out, &h.reserved, 44);
    field(&mut out, &h.records_in_header.to_string(), 8);
    field(&mut out, &num8(h.record_duration), 8);
    field(&mut out, &ns.to_string(), 4);
    let sig = &h.signals;
    sig.iter().for_each(|s| field(&mut out, &s.label, 16));
    sig.iter().for_each(|s| field(&mut out, &s.transducer, 80));
    sig.iter()
        .for_each(|s| field(&mut out, &s.physical_dimension, 8));
    sig.iter()
        .for_each(|s| field(&mut out, &num8(s.physical_min), 8));
    sig.iter()
        .for_each(|s| field(&mut out, &num8(s.physical_max), 8));
    sig.iter()
        .for_each(|s| field(&mut out, &s.digital_min.to_string(), 8));
    sig.iter()
        .for_each(|s| field(&mut out, &s.digital_max.to_string(), 8));
    sig.iter()
        .for_each(|s| field(&mut out, &s.prefiltering, 80));
    sig.iter()
        .for_each(|s| field(&mut out, &s.samples_per_record.to_string(), 8));
    sig.iter().for_each(|_| field(&mut out, "", 32));
    out
}

/// The poor-signal value of a second with no data (the headset's "no contact" value).
pub const NO_DATA_POOR_SIGNAL: u8 = 200;

/// Streams a MindWave recording into an EDF+ file.
pub struct EdfWriter {
    out: PartialFile,
    path: PathBuf,
    header: EdfHeader,
    records: u64,
    raw: Vec<i16>,
    /// The record being filled holds samples that are no data (a gap's zero fill).
    no_data: bool,
    /// File offset and used length of the last record's annotation bytes (annotations
    /// left at the end go there).
    last_tal: Option<(u64, usize)>,
    attention: u8,
    meditation: u8,
    poor: u8,
    annotations: VecDeque<Annotation>,
    record_buf: Vec<u8>,
    /// The free-text end of the recording field.
    recording_extra: String,
}

/// The EDF+ recording field, start date and start time for `start`.
fn start_fields(start: SystemTime, extra: &str) -> (String, String, String) {
    let (y, mo, d, h, mi, s) = civil_utc(start);
    let mon = MONTHS[(mo as usize).saturating_sub(1) % 12];
    (
        format!("Startdate {d:02}-{mon}-{y:04} X X benchtop_MindWave_{extra}"),
        format!("{d:02}.{mo:02}.{:02}", y.rem_euclid(100)),
        format!("{h:02}.{mi:02}.{s:02}"),
    )
}

impl EdfWriter {
    /// Starts a recording for `path` (replacing a file there once the first record is
    /// written); `start` is the wall-clock time of the first sample. `patient` /
    /// `recording` may be empty (EDF+ "X" subfields are used).
    pub fn create(
        path: &Path,
        start: SystemTime,
        patient: &str,
        recording: &str,
    ) -> Result<Self, EdfError> {
        Self::create_with(path, start, patient, recording, Overwrite::Replace)
    }

    /// [`EdfWriter::create`], refusing an existing `path` with [`Overwrite::Refuse`].
    pub fn create_with(
        path: &Path,
        start: SystemTime,
        patient: &str,
        recording: &str,
        overwrite: Overwrite,
    ) -> Result<Self, EdfError> {
        let patient = if patient.trim().is_empty() {
            "X X X X".to_string()
        } else {
            format!("X X X {}", patient.trim().replace(' ', "_"))
        };
        let rec_extra = if recording.trim().is_empty() {
            "X".to_string()
        } else {
            recording.trim().replace(' ', "_")
        };
        let (recording, start_date, start_time) = start_fields(start, &rec_extra);
        let header = EdfHeader {
            patient,
            recording,
            start_date,
            start_time,
            header_bytes: 256 * 6,
            reserved: "EDF+C".into(),
            records_in_header: -1,
            record_duration: 1.0,
            signals: mindwave_signals(),
        };
        let mut out = PartialFile::create(path, overwrite)?;
        out.write_all(&header_bytes(&header))
            .map_err(io_err("writing", path))?;
        Ok(Self {
            out,
            path: path.to_owned(),
            header,
            records: 0,
            raw: Vec::with_capacity(RAW_PER_RECORD),
            no_data: false,
            last_tal: None,
            attention: 0,
            meditation: 0,
            poor: 0,
            annotations: VecDeque::new(),
            record_buf: Vec::with_capacity(2 * (RAW_PER_RECORD + 3 + ANNOTATION_SAMPLES)),
            recording_extra: rec_extra,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Data records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes in the file so far (header and complete records).
    pub fn bytes_written(&self) -> u64 {
        (256 * (self.header.signals.len() + 1)) as u64
            + self.records * self.header.record_bytes() as u64
    }

    /// Changes the start date and time in the header (only before the first record is
    /// written: a recording opened before its first sample arrived).
    pub fn set_start(&mut self, start: SystemTime) -> Result<(), EdfError> {
        if self.records > 0 {
            return Ok(());
        }
        let (recording, date, time) = start_fields(start, &self.recording_extra);
        self.header.recording = recording;
        self.header.start_date = date;
        self.header.start_time = time;
        let mut f = Vec::with_capacity(96);
        field(&mut f, &self.header.recording, 80);
        field(&mut f, &self.header.start_date, 8);
        field(&mut f, &self.header.start_time, 8);
        self.out
            .file()
            .write_all_at(&f, 88)
            .map_err(io_err("writing", &self.path))
    }

    /// Whether the file is at its path yet (it is from its first complete record on).
    pub fn is_published(&self) -> bool {
        self.out.is_published()
    }

    /// Raw samples accepted so far (written or buffered).
    pub fn samples(&self) -> u64 {
        self.records * RAW_PER_RECORD as u64 + self.raw.len() as u64
    }

    /// Sets the 1 Hz values stored with the current record.
    pub fn set_values(&mut self, attention: u8, meditation: u8, poor_signal: u8) {
        self.attention = attention;
        self.meditation = meditation;
        self.poor = poor_signal;
    }

    /// Sets attention only.
    pub fn set_attention(&mut self, v: u8) {
        self.attention = v;
    }

    /// Sets meditation only.
    pub fn set_meditation(&mut self, v: u8) {
        self.meditation = v;
    }

    /// Sets poor signal only.
    pub fn set_poor_signal(&mut self, v: u8) {
        self.poor = v;
    }

    /// Queues an annotation; it is written with the next record.
    pub fn annotate(&mut self, a: Annotation) {
        if self.annotations.len() < 10_000 {
            self.annotations.push_back(a);
        }
    }

    /// Appends raw samples (counts); every full second is written at once.
    pub fn push_samples(&mut self, mut samples: &[i16]) -> Result<(), EdfError> {
        while !samples.is_empty() {
            let take = (RAW_PER_RECORD - self.raw.len()).min(samples.len());
            self.raw.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.raw.len() == RAW_PER_RECORD {
                self.write_record()?;
            }
        }
        Ok(())
    }

    /// Appends `count` zero samples (a gap in the stream), so later samples keep their time;
    /// every second they touch is marked no data.
    pub fn push_gap(&mut self, count: u64) -> Result<(), EdfError> {
        let zeros = [0i16; RAW_PER_RECORD];
        let mut left = count;
        while left > 0 {
            // Never across a record boundary, so the mark lands on each record touched.
            let room = (RAW_PER_RECORD - self.raw.len()) as u64;
            let n = left.min(room) as usize;
            self.no_data = true;
            self.push_samples(&zeros[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    fn write_record(&mut self) -> Result<(), EdfError> {
        let b = &mut self.record_buf;
        b.clear();
        for &s in &self.raw {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b.resize(RAW_PER_RECORD * 2, 0);
        let values = if self.no_data {
            [0, 0, NO_DATA_POOR_SIGNAL]
        } else {
            [self.attention, self.meditation, self.poor]
        };
        for v in values {
            b.extend_from_slice(&i16::from(v).to_le_bytes());
        }
        // Annotations: the record's time-keeping TAL, then whatever fits.
        let cap = ANNOTATION_SAMPLES * 2;
        let mut tal = format!("+{}\u{14}\u{14}\0", self.records).into_bytes();
        while let Some(a) = self.annotations.front() {
            let t = a.tal();
            if tal.len() + t.len() > cap {
                if t.len() + 8 > cap {
                    // Too long for any record: shorten its text.
                    let mut short = a.clone();
                    short.text.truncate(cap.saturating_sub(40));
                    self.annotations.pop_front();
                    self.annotations.push_front(short);
                }
                break;
            }
            tal.extend_from_slice(&t);
            self.annotations.pop_front();
        }
        let used = tal.len();
        tal.resize(cap, 0);
        b.extend_from_slice(&tal);
        self.out
            .write_all(b)
            .map_err(io_err("writing", &self.path))?;
        let record_start = (256 * (self.header.signals.len() + 1)) as u64
            + self.records * self.header.record_bytes() as u64;
        self.last_tal = Some((
            record_start + (2 * (RAW_PER_RECORD + values.len())) as u64,
            used,
        ));
        self.raw.clear();
        self.no_data = false;
        self.records += 1;
        // The header says the truth after every record, so any reader opens the file now.
        self.patch_count()?;
        if self.records == 1 {
            self.out.publish()?;
        }
        Ok(())
    }

    /// Writes the last partial second (its zero padding annotated as no data) and the annotations
    /// still queued, and syncs the file. Returns the number of records. A recording with no
    /// complete second leaves no file: it returns 0 and the partial file is removed.
    pub fn finish(mut self) -> Result<u64, EdfError> {
        if !self.raw.is_empty() {
            let kept = self.raw.len();
            self.annotations.push_back(Annotation {
                onset: self.records as f64 + kept as f64 / RAW_PER_RECORD as f64,
                duration: Some((RAW_PER_RECORD - kept) as f64 / RAW_PER_RECORD as f64),
                text: "no data: the recording ended here (zero padding)".into(),
            });
            // The padding is annotated; the second's values are the device's own (half of
            // it is real signal).
            self.raw.resize(RAW_PER_RECORD, 0);
            self.write_record()?;
        }
        if self.records == 0 {
            return Ok(0);
        }
        self.fit_in_last_record()?;
        let mut guard = 0;
        while !self.annotations.is_empty() && guard < 100 {
            // More annotations than the last second holds: a record of no data carries them.
            self.annotations.push_front(Annotation {
                onset: self.records as f64,
                duration: Some(1.0),
                text: "no data: added to carry annotations".into(),
            });
            self.raw.resize(RAW_PER_RECORD, 0);
            self.no_data = true;
            self.write_record()?;
            guard += 1;
        }
        self.out
            .file()
            .sync_all()
            .map_err(io_err("finishing", &self.path))?;
        Ok(self.records)
    }

    /// Writes queued annotations into the unused end of the last record's annotation
    /// signal, as many as fit.
    fn fit_in_last_record(&mut self) -> Result<(), EdfError> {
        let Some((offset, mut used)) = self.last_tal else {
            return Ok(());
        };
        let cap = ANNOTATION_SAMPLES * 2;
        let mut add = Vec::new();
        while let Some(a) = self.annotations.front() {
            let t = a.tal();
            if used + add.len() + t.len() > cap {
                break;
            }
            add.extend_from_slice(&t);
            self.annotations.pop_front();
        }
        if !add.is_empty() {
            self.out
                .file()
                .write_all_at(&add, offset + used as u64)
                .map_err(io_err("writing", &self.path))?;
            used += add.len();
            self.last_tal = Some((offset, used));
        }
        Ok(())
    }

    fn patch_count(&mut self) -> Result<(), EdfError> {
        self.header.records_in_header = self.records as i64;
        let mut f = Vec::new();
        field(&mut f, &self.records.to_string(), 8);
        self.out
            .file()
            .write_all_at(&f, RECORDS_FIELD)
            .map_err(io_err("writing", &self.path))
    }
}

fn parse_err(path: &Path, detail: impl Into<String>) -> EdfError {
    EdfError::Format {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

/// Parses an EDF header from the start of `bytes`.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<EdfHeader, EdfError> {
    if bytes.len() < 256 {
        return Err(parse_err(path, "shorter than the 256-byte header"));
    }
    if text(&bytes[0..8]) != "0" {
        return Err(parse_err(
            path,
            "version field is not \"0\" (BDF is not supported)",
        ));
    }
    let num = |r: std::ops::Range<usize>, what: &str| -> Result<f64, EdfError> {
        text(&bytes[r])
            .parse::<f64>()
            .map_err(|_| parse_err(path, format!("bad {what} field")))
    };
    let header_bytes = num(184..192, "header size")? as usize;
    let records = num(236..244, "record count")? as i64;
    let duration = num(244..252, "record duration")?;
    let ns = num(252..256, "signal count")? as usize;
    if ns == 0 || ns > 512 || header_bytes != 256 * (ns + 1) || bytes.len() < header_bytes {
        return Err(parse_err(path, "inconsistent header size / signal count"));
    }
    let mut off = 256;
    let mut col = |width: usize| -> Vec<String> {
        let v = (0..ns)
            .map(|i| text(&bytes[off + i * width..off + (i + 1) * width]))
            .collect();
        off += ns * width;
        v
    };
    let labels = col(16);
    let trans = col(80);
    let dims = col(8);
    let pmin = col(8);
    let pmax = col(8);
    let dmin = col(8);
    let dmax = col(8);
    let pre = col(80);
    let spr = col(8);
    let f = |s: &str, what: &str| -> Result<f64, EdfError> {
        s.parse::<f64>()
            .map_err(|_| parse_err(path, format!("bad {what} \"{s}\"")))
    };
    let mut signals = Vec::with_capacity(ns);
    for i in 0..ns {
        signals.push(EdfSignal {
            label: labels[i].clone(),
            transducer: trans[i].clone(),
            physical_dimension: dims[i].clone(),
            physical_min: f(&pmin[i], "physical minimum")?,
            physical_max: f(&pmax[i], "physical maximum")?,
            digital_min: f(&dmin[i], "digital minimum")? as i32,
            digital_max: f(&dmax[i], "digital maximum")? as i32,
            prefiltering: pre[i].clone(),
            samples_per_record: f(&spr[i], "samples per record")? as usize,
        });
    }
    Ok(EdfHeader {
        patient: text(&bytes[8..88]),
        recording: text(&bytes[88..168]),
        start_date: text(&bytes[168..176]),
        start_time: text(&bytes[176..184]),
        header_bytes,
        reserved: text(&bytes[192..236]),
        records_in_header: records,
        record_duration: duration,
        signals,
    })
}

/// An EDF(+) file read into memory (for replay and export).
#[derive(Debug, Clone)]
pub struct EdfFile {
    /// The header.
    pub header: EdfHeader,
    data: Vec<u8>,
    records: usize,
}

impl EdfFile {
    /// Reads `path`. A record count of −1 (a recording that was not finished) is
    /// taken from the file size, ignoring a torn last record.
    pub fn open(path: &Path) -> Result<Self, EdfError> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io_err("reading", path))?;
        let header = parse_header(&bytes, path)?;
        let rb = header.record_bytes();
        if rb == 0 {
            return Err(parse_err(path, "records have no samples"));
        }
        let available = (bytes.len() - header.header_bytes) / rb;
        let records = if header.records_in_header < 0 {
            available
        } else {
            (header.records_in_header as usize).min(available)
        };
        let data = bytes.split_off(header.header_bytes);
        Ok(Self {
            header,
            data,
            records,
        })
    }

    /// Data records in the file.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Index of the first signal with this label.
    pub fn signal_index(&self, label: &str) -> Option<usize> {
        self.header
            .signals
            .iter()
            .position(|s| s.label.trim() == label)
    }

    /// All digital samples of signal `i`, record after record.
    pub fn digital(&self, i: usize) -> Vec<i16> {
        let sigs = &self.header.signals;
        let Some(sig) = sigs.get(i) else {
            return Vec::new();
        };
        let offset: usize = sigs[..i].iter().map(|s| s.samples_per_record * 2).sum();
        let rb = self.header.record_bytes();
        let mut out = Vec::with_capacity(self.records * sig.samples_per_record);
        for r in 0..self.records {
            let start = r * rb + offset;
            if let Some(chunk) = self.data.get(start..start + sig.samples_per_record * 2) {
                out.extend(
                    chunk
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]])),
                );
            }
        }
        out
    }

    /// All samples of signal `i` in physical units.
    pub fn physical(&self, i: usize) -> Vec<f64> {
        let Some(sig) = self.header.signals.get(i) else {
            return Vec::new();
        };
        self.digital(i)
            .into_iter()
            .map(|d| sig.to_physical(d))
            .collect()
    }

    /// The annotations (without the per-record time-keeping entries).
    pub fn annotations(&self) -> Vec<Annotation> {
        let Some(i) = self
            .header
            .signals
            .iter()
            .position(EdfSignal::is_annotations)
        else {
            return Vec::new();
        };
        let bytes: Vec<u8> = self
            .digital(i)
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        let per = self.header.signals[i].samples_per_record * 2;
        let mut out = Vec::new();
        for rec in bytes.chunks(per.max(1)) {
            for tal in rec.split(|&b| b == 0).filter(|t| !t.is_empty()) {
                let mut parts = tal.split(|&b| b == 0x14);
                let Some(time) = parts.next() else { continue };
                let mut tp = time.split(|&b| b == 0x15);
                let onset = tp
                    .next()
                    .and_then(|o| String::from_utf8_lossy(o).parse::<f64>().ok());
                let duration = tp
                    .next()
                    .and_then(|d| String::from_utf8_lossy(d).parse::<f64>().ok());
                let Some(onset) = onset else { continue };
                for t in parts.filter(|t| !t.is_empty()) {
                    out.push(Annotation {
                        onset,
                        duration,
                        text: String::from_utf8_lossy(t).into_owned(),
                    });
                }
            }
        }
        out
    }
}

/// What [`repair`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairReport {
    /// Complete data records in the file.
    pub records: u64,
    /// Bytes of a torn last record that were cut.
    pub truncated_bytes: u64,
    /// Whether the header said −1 (or a wrong count) before.
    pub header_fixed: bool,
}

/// Repairs an EDF file left by a killed writer: cuts a torn last record and writes the
/// real record count into the header. Harmless on a good file.
pub fn repair(path: &Path) -> Result<RepairReport, EdfError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err("opening", path))?;
    let mut head = vec![0u8; 256];
    file.read_exact(&mut head)
        .map_err(io_err("reading", path))?;
    let ns: usize = text(&head[252..256])
        .parse()
        .map_err(|_| parse_err(path, "bad signal count"))?;
    let mut rest = vec![0u8; 256 * ns];
    file.read_exact(&mut rest)
        .map_err(io_err("reading", path))?;
    head.extend_from_slice(&rest);
    let header = parse_header(&head, path)?;
    let rb = header.record_bytes() as u64;
    if rb == 0 {
        return Err(parse_err(path, "records have no samples"));
    }
    let len = file.metadata().map_err(io_err("reading", path))?.len();
    let body = len.saturating_sub(header.header_bytes as u64);
    let records = body / rb;
    let torn = body % rb;
    if torn > 0 {
        file.set_len(len - torn)
            .map_err(io_err("truncating", path))?;
    }
    let fixed = header.records_in_header != records as i64;
    if fixed {
        let mut f = Vec::new();
        field(&mut f, &records.to_string(), 8);
        file.seek(SeekFrom::Start(RECORDS_FIELD))
            .and_then(|_| file.write_all(&f))
            .and_then(|_| file.sync_all())
            .map_err(io_err("repairing", path))?;
    }
    Ok(RepairReport {
        records,
        truncated_bytes: torn,
        header_fixed: fixed,
    })
}

/// Writes a raw byte capture (what the port delivered). Like the EDF+ file it is written
/// beside its name and moved into place with [`CaptureWriter::publish`] (when the recording's
/// first second is on disk); flushed with every EDF+ record and at least once a second.
pub struct CaptureWriter {
    out: std::io::BufWriter<PartialFile>,
    path: PathBuf,
    last_flush: Instant,
    bytes: u64,
}

impl CaptureWriter {
    /// Starts a capture for `path` (replacing a file there once published).
    pub fn create(path: &Path) -> Result<Self, EdfError> {
        Self::create_with(path, Overwrite::Replace)
    }

    /// [`CaptureWriter::create`], refusing an existing `path` with [`Overwrite::Refuse`].
    pub fn create_with(path: &Path, overwrite: Overwrite) -> Result<Self, EdfError> {
        let f = PartialFile::create(path, overwrite)?;
        Ok(Self {
            out: std::io::BufWriter::with_capacity(64 * 1024, f),
            path: path.to_owned(),
            last_flush: Instant::now(),
            bytes: 0,
        })
    }

    /// Appends bytes (flushing when a second has passed since the last flush).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), EdfError> {
        self.out
            .write_all(bytes)
            .map_err(io_err("writing", &self.path))?;
        self.bytes += bytes.len() as u64;
        if self.last_flush.elapsed() >= Duration::from_secs(1) {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes when a second has passed since the last flush.
    pub fn flush_if_due(&mut self) -> Result<(), EdfError> {
        if self.last_flush.elapsed() >= Duration::from_secs(1) {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes to the OS.
    pub fn flush(&mut self) -> Result<(), EdfError> {
        self.last_flush = Instant::now();
        self.out.flush().map_err(io_err("writing", &self.path))
    }

    /// Moves the capture to its path (it keeps growing there).
    pub fn publish(&mut self) -> Result<(), EdfError> {
        self.flush()?;
        self.out.get_mut().publish()?;
        Ok(())
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// Exports a MindWave EDF+ file as CSV: `time_s,raw_counts,raw_uv,attention,meditation,
/// poor_signal,annotation` — one row per raw sample, the 1 Hz values repeated over their
/// second, each annotation on the row nearest its onset.
pub fn export_csv(edf: &EdfFile, mut out: impl std::io::Write) -> std::io::Result<u64> {
    let Some(raw_i) = edf
        .signal_index("EEG Fp1")
        .or_else(|| edf.header.signals.iter().position(|s| !s.is_annotations()))
    else {
        return Ok(0);
    };
    let sig = &edf.header.signals[raw_i];
    let spr = sig.samples_per_record.max(1);
    let fs = spr as f64 / edf.header.record_duration.max(1e-9);
    let raw_uv = edf.physical(raw_i);
    let one = |label: &str| edf.signal_index(label).map(|i| edf.physical(i));
    let att = one("Attention");
    let med = one("Meditation");
    let poor = one("Poor signal");
    let mut notes: Vec<(usize, String)> = edf
        .annotations()
        .into_iter()
        .map(|a| ((a.onset * fs).round().max(0.0) as usize, a.text))
        .collect();
    notes.sort_by_key(|n| n.0);
    let mut ni = 0;
    writeln!(
        out,
        "time_s,raw_counts,raw_uv,attention,meditation,poor_signal,annotation"
    )?;
    let cell = |v: &Option<Vec<f64>>, rec: usize| {
        v.as_ref()
            .and_then(|v| v.get(rec))
            .map(|x| format!("{x:.0}"))
            .unwrap_or_default()
    };
    let mut rows = 0u64;
    for (n, uv) in raw_uv.iter().enumerate() {
        let rec = n / spr;
        let mut note = String::new();
        while ni < notes.len() && notes[ni].0 <= n {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&notes[ni].1.replace([',', '"', '\n'], " "));
            ni += 1;
        }
        writeln!(
            out,
            "{:.6},{},{:.3},{},{},{},{}",
            n as f64 / fs,
            (uv / UV_PER_COUNT).round() as i64,
            uv,
            cell(&att, rec),
            cell(&med, rec),
            cell(&poor, rec),
            note
        )?;
        rows += 1;
    }
    out.flush()?;
    Ok(rows)
}

/// Exports the EDF+ file at `edf` to a CSV file at `csv` (see [`export_csv`]). Returns
/// the rows written.
pub fn edf_to_csv(edf: &Path, csv: &Path) -> Result<u64, EdfError> {
    let file = EdfFile::open(edf)?;
    let out = File::create(csv).map_err(io_err("creating", csv))?;
    export_csv(&file, std::io::BufWriter::new(out)).map_err(io_err("writing", csv))
}
