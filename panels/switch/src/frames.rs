//! "What happens to a frame": frames sent one after another through the forwarding
//! simulator of the edited configuration, sharing its learning table, each shown with its
//! classified VID, whether the destination was learned or flooded, and the egress ports
//! tagged or untagged. A preset runs two hosts talking (broadcast, reply, follow-up).

use benchtop_ar8327::config::{Board, NUM_PORTS};
use benchtop_ar8327::fwd::{Frame, HOST_A, HOST_B, Mac, Simulator, TraceStep, exchange_frames};
use egui::Ui;

use crate::{SwitchPanel, words};

/// Steps kept in the list.
const MAX_STEPS: usize = 1000;
/// Lines under each step's header (classification, lookup, egress).
const BODY_LINES: usize = 3;

/// A step in words, prepared when the frame is sent.
pub(crate) struct Rendered {
    header: String,
    verdict: &'static str,
    body: String,
}

/// The frame tool's state.
pub(crate) struct FrameTool {
    sim: Option<Simulator>,
    pub steps: Vec<TraceStep>,
    rendered: Vec<Rendered>,
    pub learned: Vec<(Mac, u16, u8)>,
    pub port: u8,
    pub src: String,
    pub dst: String,
    pub tagged: bool,
    pub vid: u16,
    pub host_a: u8,
    pub host_b: u8,
    /// Host A tags its frames (a host on a trunk), with this VID.
    pub a_tagged: bool,
    pub a_vid: u16,
    pub note: Option<(bool, String)>,
}

impl Default for FrameTool {
    fn default() -> Self {
        Self {
            sim: None,
            steps: Vec::new(),
            rendered: Vec::new(),
            learned: Vec::new(),
            port: 1,
            src: HOST_A.to_string(),
            dst: "broadcast".into(),
            tagged: false,
            vid: 1,
            host_a: 1,
            host_b: 2,
            a_tagged: false,
            a_vid: 1,
            note: None,
        }
    }
}

impl FrameTool {
    /// A new simulator for a changed configuration: the learning table starts empty, as
    /// after an apply (which ends with an address-table flush).
    pub fn rebuild(&mut self, sim: Simulator) {
        if !self.steps.is_empty() {
            self.note = Some((
                false,
                "The configuration changed: the learning table was flushed, as an apply does."
                    .into(),
            ));
        }
        self.sim = Some(sim);
        self.steps.clear();
        self.rendered.clear();
        self.learned.clear();
    }

    pub(crate) fn send(&mut self, f: Frame, board: &Board) {
        let Some(sim) = self.sim.as_mut() else {
            return;
        };
        let outcome = sim.process(&f);
        if self.steps.len() == MAX_STEPS {
            self.steps.remove(0);
            self.rendered.remove(0);
        }
        let step = TraceStep { frame: f, outcome };
        let lines = words::step(board, &step);
        let mut body: Vec<&str> = lines.iter().skip(1).map(String::as_str).collect();
        body.resize(BODY_LINES, "");
        self.rendered.push(Rendered {
            header: lines.first().cloned().unwrap_or_default(),
            verdict: words::verdict(&step),
            body: body.join("\n"),
        });
        self.steps.push(step);
        self.learned = sim.entries();
    }

    /// Sends the frame described by the input fields.
    pub fn send_typed(&mut self, board: &Board) {
        let src = self.src.trim().parse::<Mac>();
        let dst = match self.dst.trim() {
            "broadcast" | "bcast" => Ok(Mac::BROADCAST),
            d => d.parse::<Mac>(),
        };
        match (src, dst) {
            (Ok(src), Ok(dst)) => {
                self.note = None;
                self.send(
                    Frame {
                        port: self.port,
                        src,
                        dst,
                        vid: self.tagged.then_some(self.vid),
                    },
                    board,
                );
            }
            (Err(e), _) | (_, Err(e)) => self.note = Some((true, e)),
        }
    }

    /// Two hosts talk: A broadcasts (an ARP request; tagged when host A is on a trunk), B
    /// answers A the way the broadcast reached it (tagged with its VID if it left tagged),
    /// A answers B.
    pub fn two_hosts(&mut self, board: &Board) {
        let a_vid = self.a_tagged.then_some(self.a_vid);
        let [req, mut rep, fol] = exchange_frames(self.host_a, a_vid, self.host_b);
        let a_words = match a_vid {
            Some(v) => format!("on port {}, tagged {v}", self.host_a),
            None => format!("on port {}", self.host_a),
        };
        self.send(req, board);
        let Some(out) = self.steps.last().map(|s| s.outcome) else {
            return;
        };
        let b_bit = 1u8 << (self.host_b & 7);
        if out.egress & b_bit == 0 {
            self.note = Some((
                false,
                format!(
                    "Host A {HOST_A} {a_words}: its broadcast does not reach port {}, so host B never answers.",
                    self.host_b
                ),
            ));
            return;
        }
        rep.vid = (out.tagged & b_bit != 0).then_some(out.vid);
        let b_words = match rep.vid {
            Some(v) => format!("answers tagged {v}, as the broadcast reached it"),
            None => "answers untagged, as the broadcast reached it".to_owned(),
        };
        self.note = Some((
            false,
            format!(
                "Host A {HOST_A} {a_words}; host B {HOST_B} on port {} {b_words}: request, reply, follow-up.",
                self.host_b
            ),
        ));
        self.send(rep, board);
        self.send(fol, board);
    }

    /// Empties the learning table and the list.
    pub fn reset(&mut self) {
        if let Some(sim) = self.sim.as_mut() {
            sim.flush();
        }
        self.steps.clear();
        self.rendered.clear();
        self.learned.clear();
        self.note = Some((false, "Learning table flushed.".into()));
    }

    fn wait(&mut self, secs: u32) {
        if let Some(sim) = self.sim.as_mut() {
            sim.advance(secs);
            self.learned = sim.entries();
            self.note = Some((
                false,
                format!(
                    "{secs} s later: {} address(es) left (entries age out after {} s).",
                    self.learned.len(),
                    sim.age_secs
                ),
            ));
        }
    }
}

fn port_combo(ui: &mut Ui, id: &str, board: &Board, port: &mut u8) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(words::port(board, *port))
        .show_ui(ui, |ui| {
            for p in 0..NUM_PORTS as u8 {
                ui.selectable_value(port, p, words::port(board, p));
            }
        });
}

/// The frame tool.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let board = panel.board().clone();
    let t = &mut panel.frames;
    ui.horizontal_wrapped(|ui| {
        ui.label("Frame in on");
        port_combo(ui, "switch-frame-port", &board, &mut t.port);
        let l = ui.label("from");
        ui.add(egui::TextEdit::singleline(&mut t.src).desired_width(130.0))
            .labelled_by(l.id);
        let l = ui.label("to");
        ui.add(
            egui::TextEdit::singleline(&mut t.dst)
                .desired_width(130.0)
                .hint_text("MAC or broadcast"),
        )
        .labelled_by(l.id);
        ui.checkbox(&mut t.tagged, "802.1Q tag, VID");
        ui.add_enabled(t.tagged, egui::DragValue::new(&mut t.vid).range(1..=4094));
        if ui.button("Send frame").clicked() {
            t.send_typed(&board);
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Host A on");
        port_combo(ui, "switch-frame-a", &board, &mut t.host_a);
        ui.label("host B on");
        port_combo(ui, "switch-frame-b", &board, &mut t.host_b);
        ui.checkbox(&mut t.a_tagged, "A tags, VID")
            .on_hover_text("Host A on a trunk port sends 802.1Q-tagged frames");
        ui.add_enabled(
            t.a_tagged,
            egui::DragValue::new(&mut t.a_vid).range(1..=4094),
        );
        if ui
            .button("Two hosts talk")
            .on_hover_text(
                "A broadcasts, B replies to A the way the broadcast reached it (tagged or not), \
                 A answers B (learning carried over)",
            )
            .clicked()
        {
            t.two_hosts(&board);
        }
        ui.separator();
        if ui
            .button("Wait 60 s")
            .on_hover_text("Let the address table age")
            .clicked()
        {
            t.wait(60);
        }
        if ui.button("Reset learning table").clicked() {
            t.reset();
        }
    });
    if let Some((err, n)) = &t.note {
        if *err {
            ui.colored_label(benchtop_panels::tokens::ERROR, n);
        } else {
            ui.weak(n);
        }
    }
    ui.separator();
    ui.columns(2, |cols| {
        let (left, right) = cols.split_at_mut(1);
        let (Some(left), Some(right)) = (left.first_mut(), right.first_mut()) else {
            return;
        };
        let line = left.text_style_height(&egui::TextStyle::Body);
        let row_h = line * (1 + BODY_LINES) as f32 + left.spacing().item_spacing.y * 2.0;
        if t.rendered.is_empty() {
            left.weak("No frames yet: send one, or press \"Two hosts talk\".");
        }
        egui::ScrollArea::vertical()
            .id_salt("switch-frame-steps")
            .auto_shrink([false, false])
            .stick_to_bottom(true)
            .show_rows(left, row_h, t.rendered.len(), |ui, range| {
                for i in range {
                    let Some(r) = t.rendered.get(i) else { break };
                    let color = match r.verdict {
                        "forwarded" => benchtop_panels::tokens::OK,
                        "dropped" => benchtop_panels::tokens::ERROR,
                        _ => benchtop_panels::tokens::PENDING,
                    };
                    ui.label(
                        egui::RichText::new(format!("#{} {} — {}", i + 1, r.verdict, r.header))
                            .color(color),
                    );
                    ui.horizontal(|ui| {
                        ui.add_space(18.0);
                        ui.label(&r.body);
                    });
                }
            });
        right.strong(format!("Learned addresses ({})", t.learned.len()));
        egui::ScrollArea::vertical()
            .id_salt("switch-frame-learned")
            .auto_shrink([false, false])
            .show(right, |ui| {
                for (mac, vid, port) in &t.learned {
                    let vid = if *vid == 0 {
                        "shared".to_owned()
                    } else {
                        format!("VID {vid}")
                    };
                    ui.monospace(format!("{mac}  {vid:<9} {}", words::port(&board, *port)));
                }
            });
    });
}
