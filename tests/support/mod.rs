//! What every end-to-end test of the window needs: the real app in an egui_kittest harness,
//! each frame running the shell's per-frame drain (`logic`) and then drawing (`ui`), exactly
//! as eframe does.

use benchtop_app::BenchtopApp;
use egui_kittest::Harness;

/// The harness the tests drive.
pub type H = Harness<'static, BenchtopApp>;

/// `app` in a 1400×900 window.
pub fn harness(app: BenchtopApp) -> H {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut BenchtopApp| {
                app.logic(ui.ctx());
                app.ui(ui);
            },
            app,
        )
}
