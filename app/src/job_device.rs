//! A device whose work is all jobs: a panel without a worker, a link or a simulator of its
//! own (the Audit panel, whose "device" is a host it probes from a job). The shell sees it
//! as any [`Device`]; it only runs the panel's jobs and carries out its actions.

use std::time::Instant;

use benchtop_drivers::DriverError;
use benchtop_drivers::Waker;
use benchtop_drivers::sim::SimHandle;
use benchtop_panels::{DevicePanel, PanelAction, SourceChoice};

use crate::Tab;
use crate::devices::{Device, HubRequest, PanelJobs, PanelView};

/// A panel and its jobs.
pub struct JobDevice<D> {
    tab: Tab,
    panel: D,
    waker: Waker,
    jobs: PanelJobs,
}

impl<D: DevicePanel> JobDevice<D> {
    /// A device in `tab` showing `panel`; `waker` is called when a job reports.
    pub fn new(tab: Tab, panel: D, waker: Waker) -> Self {
        Self {
            tab,
            panel,
            waker,
            jobs: PanelJobs::default(),
        }
    }
}

impl<D: DevicePanel + 'static> Device for JobDevice<D> {
    fn tab(&self) -> Tab {
        self.tab
    }

    fn panel(&self) -> &dyn PanelView {
        &self.panel
    }

    fn panel_mut(&mut self) -> &mut dyn PanelView {
        &mut self.panel
    }

    fn drain(&mut self, _deadline: Instant) -> bool {
        self.jobs.run(&mut self.panel, &self.waker);
        false
    }

    fn apply_actions(&mut self) -> Vec<HubRequest> {
        let mut requests = Vec::new();
        for action in self.panel.core_mut().take_actions() {
            match action {
                PanelAction::Open(path) => requests.push(HubRequest::Open(path)),
                // No worker to command, no link to connect: such a panel queues neither.
                PanelAction::Command(_) | PanelAction::Connection(_) => {}
            }
        }
        self.jobs.run(&mut self.panel, &self.waker);
        requests
    }

    /// Nothing to connect: the panel chooses its target itself, for each job.
    fn connect(&mut self, _choice: SourceChoice) -> Result<(), DriverError> {
        Ok(())
    }

    /// Nothing connected, nothing to stop (a running audit stops with its Cancel).
    fn disconnect(&mut self) {}

    fn sim(&self) -> Option<&SimHandle> {
        None
    }

    fn is_running(&self) -> bool {
        false
    }

    fn jobs_running(&self) -> bool {
        !self.jobs.is_empty()
    }
}
