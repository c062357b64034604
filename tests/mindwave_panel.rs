//! End-to-end tests of the mindwave panel: the real app shell, driver and simulator, driven by labels.
