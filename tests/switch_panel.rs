//! End-to-end tests of the switch panel: the real app shell, driver and simulator, driven by labels.
