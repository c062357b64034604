//! The flash plan as people write it (TOML), for one board in the Console's guided flash or
//! for every board of a fleet:
//!
//! ```toml
//! server = "192.168.84.9"          # the TFTP server, as the boards see it
//! prefix = 24                      # optional: the boards' netmask length (default 24)
//! first_ip = "192.168.84.100"      # optional: boards without an `ip` get .100, .101, …
//! fis_init = true                  # optional: `fis init` first (a board's first flash)
//!
//! [[image]]
//! file = "openwrt-atheros-vmlinux.lzma"   # in the TFTP root
//! load_address = "0x80041000"
//! fis = "linux"                            # fis create NAME (omit: load only)
//! entry = "0x80041000"                     # optional: fis create -e
//! flash_address = "0xa8030000"             # optional: fis create -f
//! ```
//!
//! Numbers are hex with `0x` or decimal, as RedBoot reads them.

use std::path::Path;

use serde::Deserialize;

use crate::flash::{FlashPlan, FlashTarget, ImagePlan, ImageSource, IpPlan};
use crate::parse::is_ipv4;

/// Largest plan file read (a plan is a few lines).
pub const MAX_PLAN_BYTES: u64 = 1 << 20;

/// A plan as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The TFTP server's address as the boards see it (`ip_address -h`, `load -h`).
    pub server: String,
    /// The boards' prefix length.
    #[serde(default = "default_prefix")]
    pub prefix: u8,
    /// The first address handed to boards the fleet file gives none.
    #[serde(default)]
    pub first_ip: Option<String>,
    /// `fis init` before the first image (a new FIS directory: a board's first flash).
    #[serde(default)]
    pub fis_init: bool,
    /// The images, in order.
    #[serde(rename = "image", default)]
    pub images: Vec<ImageFile>,
}

fn default_prefix() -> u8 {
    24
}

/// One `[[image]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFile {
    /// The file in the TFTP root.
    pub file: String,
    /// RAM address to load to.
    pub load_address: String,
    /// The FIS image to create (omit to only load).
    #[serde(default)]
    pub fis: Option<String>,
    /// Entry point (`fis create -e`).
    #[serde(default)]
    pub entry: Option<String>,
    /// FLASH address (`fis create -f`).
    #[serde(default)]
    pub flash_address: Option<String>,
}

/// Why a plan cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not TOML of this shape.
    #[error("{0}")]
    Syntax(String),
    /// A value that is wrong.
    #[error("{0}")]
    Value(String),
    /// A file of the plan is not in the TFTP root (or unreadable).
    #[error("{file}: {why} (the TFTP root is {root})")]
    File {
        /// The file named in the plan.
        file: String,
        /// What is wrong.
        why: String,
        /// Where it was looked for.
        root: String,
    },
}

fn number(s: &str, what: &str) -> Result<u32, PlanError> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => t.parse::<u32>().ok(),
    };
    v.ok_or_else(|| PlanError::Value(format!("{what}: \"{s}\" is not a number (0x… or decimal)")))
}

impl PlanFile {
    /// Reads a plan from its text, checking every value.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let p: PlanFile = toml::from_str(text).map_err(|e| PlanError::Syntax(e.to_string()))?;
        if !is_ipv4(p.server.trim()) {
            return Err(PlanError::Value(format!(
                "server: \"{}\" is not an IPv4 address (the TFTP server as the boards see it)",
                p.server
            )));
        }
        if p.prefix == 0 || p.prefix > 30 {
            return Err(PlanError::Value(format!(
                "prefix: {} is not a netmask length for boards (1–30)",
                p.prefix
            )));
        }
        if let Some(ip) = &p.first_ip
            && !is_ipv4(ip.trim())
        {
            return Err(PlanError::Value(format!(
                "first_ip: \"{ip}\" is not an IPv4 address"
            )));
        }
        if p.images.is_empty() {
            return Err(PlanError::Value(
                "the plan has no [[image]]: add one with file, load_address and fis".into(),
            ));
        }
        for img in &p.images {
            img.image_plan(&p.server, None)?
                .validate()
                .map_err(|e| PlanError::Value(format!("[[image]] {}: {e}", img.file)))?;
        }
        Ok(p)
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<Self, PlanError> {
        let bytes = benchtop_drivers::files::read_bounded(path, MAX_PLAN_BYTES, "a flash plan")
            .map_err(|e| PlanError::Syntax(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            PlanError::Syntax(format!(
                "{}: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        Self::parse(&text).map_err(|e| match e {
            PlanError::Syntax(m) => PlanError::Syntax(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The address of board number `n` (0-based) of those without one, from `first_ip`.
    pub fn nth_ip(&self, n: u32) -> Option<String> {
        let first: std::net::Ipv4Addr = self.first_ip.as_deref()?.trim().parse().ok()?;
        let ip = u32::from(first).checked_add(n)?;
        Some(std::net::Ipv4Addr::from(ip).to_string())
    }

    /// The plan for one board at `ip` (its `ip_address -l`), every image checked against
    /// the file the server will send when `root` (the TFTP root) is given: its length and
    /// POSIX cksum become what RAM must hold before FLASH is written.
    pub fn flash_plan(
        &self,
        ip: Option<&str>,
        root: Option<&Path>,
        baud: u32,
    ) -> Result<FlashPlan, PlanError> {
        let ip = match ip {
            Some(ip) if is_ipv4(ip.trim()) => Some(IpPlan {
                local: format!("{}/{}", ip.trim(), self.prefix),
                server: Some(self.server.trim().to_owned()),
            }),
            Some(ip) => {
                return Err(PlanError::Value(format!(
                    "\"{ip}\" is not an IPv4 address for the board"
                )));
            }
            None => None,
        };
        let images = self
            .images
            .iter()
            .map(|img| img.image_plan(&self.server, root))
            .collect::<Result<Vec<_>, _>>()?;
        let plan = FlashPlan {
            ip,
            images,
            baud,
            init_fis: self.fis_init,
        };
        plan.validate().map_err(PlanError::Value)?;
        Ok(plan)
    }
}

impl ImageFile {
    fn image_plan(&self, server: &str, root: Option<&Path>) -> Result<ImagePlan, PlanError> {
        let what = |field: &str| format!("[[image]] {}: {field}", self.file);
        let load_addr = number(&self.load_address, &what("load_address"))?;
        let target = match &self.fis {
            Some(name) => FlashTarget::Create {
                name: name.trim().to_owned(),
                flash_addr: self
                    .flash_address
                    .as_deref()
                    .map(|f| number(f, &what("flash_address")))
                    .transpose()?,
                entry: self
                    .entry
                    .as_deref()
                    .map(|e| number(e, &what("entry")))
                    .transpose()?,
                exec: None,
            },
            None => FlashTarget::LoadOnly,
        };
        let expect = match root {
            Some(root) => Some(file_facts(root, &self.file)?),
            None => None,
        };
        Ok(ImagePlan {
            image: ImageSource::Tftp {
                file: self.file.trim().to_owned(),
                server: Some(server.trim().to_owned()),
            },
            load_addr,
            target,
            expect,
        })
    }
}

/// The length and POSIX cksum of `file` in the TFTP root (resolved as the server resolves
/// it, so a plan cannot name a file the server would refuse).
pub fn file_facts(root: &Path, file: &str) -> Result<(u32, u32), PlanError> {
    let err = |why: String| PlanError::File {
        file: file.to_owned(),
        why,
        root: root.display().to_string(),
    };
    let canon_root = std::fs::canonicalize(root).map_err(|e| err(format!("no TFTP root: {e}")))?;
    let path = benchtop_drivers::tftp::resolve(&canon_root, file).map_err(|(_, why)| err(why))?;
    let data = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
    let len = u32::try_from(data.len()).map_err(|_| err("larger than 4 GiB".into()))?;
    Ok((len, crate::parse::posix_cksum(&data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
server = "192.168.84.9"
first_ip = "192.168.84.100"

[[image]]
file = "openwrt-atheros-vmlinux.lzma"
load_address = "0x80041000"
fis = "linux"
entry = "0x80041000"

[[image]]
file = "openwrt-atheros-root.squashfs"
load_address = "0x80041000"
fis = "rootfs"
"#;

    #[test]
    fn a_plan_becomes_each_boards_flash() {
        let p = PlanFile::parse(PLAN).expect("plan");
        assert_eq!(p.nth_ip(3).as_deref(), Some("192.168.84.103"));
        let f = p
            .flash_plan(Some("192.168.84.20"), None, 115_200)
            .expect("flash");
        assert_eq!(
            f.ip,
            Some(IpPlan {
                local: "192.168.84.20/24".into(),
                server: Some("192.168.84.9".into())
            })
        );
        assert_eq!(f.images.len(), 2);
        assert_eq!(f.images[1].fis_name(), Some("rootfs"));
        assert_eq!(f.images[0].load_addr, 0x8004_1000);
    }

    #[test]
    fn mistakes_are_said_with_where_they_are() {
        let e = PlanFile::parse(
            "server = \"192.168.84\"\n[[image]]\nfile=\"a\"\nload_address=\"0x1000\"",
        )
        .expect_err("bad server");
        assert!(e.to_string().contains("server"), "{e}");
        let e = PlanFile::parse("server = \"10.0.0.1\"").expect_err("no image");
        assert!(e.to_string().contains("[[image]]"), "{e}");
        let e =
            PlanFile::parse("server = \"10.0.0.1\"\n[[image]]\nfile=\"a\"\nload_address=\"0xzz\"")
                .expect_err("bad number");
        assert!(e.to_string().contains("load_address"), "{e}");
        let e = PlanFile::parse("server = \"10.0.0.1\"\nfirmware = 1").expect_err("unknown key");
        assert!(e.to_string().contains("firmware"), "{e}");
        let e = PlanFile::parse(
            "server = \"10.0.0.1\"\n[[image]]\nfile=\"a\"\nload_address=\"0x1000\"\nfis=\"my image\"",
        )
        .expect_err("name with a space");
        assert!(e.to_string().contains("without spaces"), "{e}");
    }

    #[test]
    fn files_are_measured_in_the_tftp_root() {
        let dir = std::env::temp_dir().join(format!("benchtop-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("openwrt-atheros-vmlinux.lzma"), b"kernel").expect("w");
        let p = PlanFile::parse(PLAN).expect("plan");
        let e = p.flash_plan(Some("192.168.84.20"), Some(&dir), 115_200);
        assert!(
            e.as_ref()
                .is_err_and(|e| e.to_string().contains("openwrt-atheros-root.squashfs")),
            "{e:?}"
        );
        std::fs::write(dir.join("openwrt-atheros-root.squashfs"), b"root").expect("w");
        let f = p
            .flash_plan(Some("192.168.84.20"), Some(&dir), 115_200)
            .expect("plan");
        assert_eq!(
            f.images[0].expect,
            Some((6, crate::parse::posix_cksum(b"kernel")))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
