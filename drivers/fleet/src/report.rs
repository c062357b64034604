//! What a batch did, board by board: JSON for scripts, CSV for a spreadsheet.

use serde::{Deserialize, Serialize};

/// One image on one board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageReport {
    /// The file in the TFTP root.
    pub file: String,
    /// The FIS image written, when it was.
    pub fis: Option<String>,
    /// Bytes loaded into RAM.
    pub length: Option<u32>,
    /// POSIX cksum of what was loaded (checked against the file and against FLASH).
    pub cksum: Option<u32>,
    /// `written and checked`, `failed`, `in progress`, `not reached`.
    pub result: String,
}

/// One board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardReport {
    /// Its place in the fleet file.
    pub index: usize,
    /// Its name there.
    pub name: Option<String>,
    /// Its console.
    pub port: String,
    /// The address it used.
    pub ip: Option<String>,
    /// `bdshow` serial number.
    pub serial: Option<String>,
    /// `bdshow` enet0 MAC.
    pub mac: Option<String>,
    /// `flashed`, `partly flashed`, `failed`, `flashing`, `not flashed`.
    pub result: String,
    /// The last error, in words.
    pub error: Option<String>,
    /// Seconds from the flash's start to its end (over resumed attempts).
    pub duration_secs: Option<f64>,
    /// Each image of the plan.
    pub images: Vec<ImageReport>,
}

/// A batch's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When it was made (UTC, `YYYY-MM-DD_HH-MM-SS`).
    pub generated: String,
    /// Every board of the fleet.
    pub boards: Vec<BoardReport>,
}

impl Report {
    /// Boards with this result.
    pub fn count(&self, result: &str) -> usize {
        self.boards.iter().filter(|b| b.result == result).count()
    }

    /// One line for people: `12 flashed, 1 failed, 3 not flashed`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for r in [
            "flashed",
            "partly flashed",
            "failed",
            "flashing",
            "not flashed",
        ] {
            let n = self.count(r);
            if n > 0 {
                parts.push(format!("{n} {r}"));
            }
        }
        if parts.is_empty() {
            "no boards".into()
        } else {
            parts.join(", ")
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// CSV: one row per board and image (a board without images has one row), with a header.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "index,name,port,ip,serial,mac,result,error,duration_secs,image,fis,length,cksum,image_result\n",
        );
        for b in &self.boards {
            let head = [
                b.index.to_string(),
                b.name.clone().unwrap_or_default(),
                b.port.clone(),
                b.ip.clone().unwrap_or_default(),
                b.serial.clone().unwrap_or_default(),
                b.mac.clone().unwrap_or_default(),
                b.result.clone(),
                b.error.clone().unwrap_or_default(),
                b.duration_secs
                    .map(|d| format!("{d:.1}"))
                    .unwrap_or_default(),
            ];
            let images: Vec<[String; 5]> = if b.images.is_empty() {
                vec![Default::default()]
            } else {
                b.images
                    .iter()
                    .map(|i| {
                        [
                            i.file.clone(),
                            i.fis.clone().unwrap_or_default(),
                            i.length.map(|l| l.to_string()).unwrap_or_default(),
                            i.cksum.map(|c| c.to_string()).unwrap_or_default(),
                            i.result.clone(),
                        ]
                    })
                    .collect()
            };
            for img in images {
                let fields: Vec<String> = head
                    .iter()
                    .chain(img.iter())
                    .map(|f| csv_field(f))
                    .collect();
                out.push_str(&fields.join(","));
                out.push('\n');
            }
        }
        out
    }
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet
/// shows a board's text rather than running it as a formula.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            generated: "2026-12-01_12-00-00".into(),
            boards: vec![
                BoardReport {
                    index: 0,
                    name: Some("slot, 1".into()),
                    port: "/dev/ttyUSB0".into(),
                    ip: Some("192.168.84.10".into()),
                    serial: Some("Q2BT00000001".into()),
                    mac: Some("00:18:0a:00:00:01".into()),
                    result: "flashed".into(),
                    error: None,
                    duration_secs: Some(41.25),
                    images: vec![
                        ImageReport {
                            file: "k.lzma".into(),
                            fis: Some("vmlinux.bin.l7".into()),
                            length: Some(786_432),
                            cksum: Some(1234),
                            result: "written and checked".into(),
                        },
                        ImageReport {
                            file: "r.squashfs".into(),
                            fis: Some("rootfs".into()),
                            length: Some(2_621_440),
                            cksum: Some(5678),
                            result: "written and checked".into(),
                        },
                    ],
                },
                BoardReport {
                    index: 1,
                    name: None,
                    port: "rfc2217 pi:3001".into(),
                    ip: None,
                    serial: None,
                    mac: None,
                    result: "failed".into(),
                    error: Some("=cmd \"quoted\"".into()),
                    duration_secs: None,
                    images: vec![],
                },
            ],
        }
    }

    #[test]
    fn json_round_trips_and_summary_counts() {
        let r = sample();
        let back: Report = serde_json::from_str(&r.to_json()).expect("json");
        assert_eq!(back, r);
        assert_eq!(r.summary(), "1 flashed, 1 failed");
    }

    #[test]
    fn csv_has_a_row_per_image_and_quotes() {
        let csv = sample().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[1].starts_with("0,\"slot, 1\",/dev/ttyUSB0,192.168.84.10,Q2BT00000001,"));
        assert!(lines[1].ends_with("k.lzma,vmlinux.bin.l7,786432,1234,written and checked"));
        assert!(lines[2].contains("r.squashfs,rootfs,2621440,5678"));
        assert!(
            lines[3].contains(",failed,\"'=cmd \"\"quoted\"\"\","),
            "{}",
            lines[3]
        );
        assert!(lines[3].ends_with(",,,,,"));
    }
}
