//! End-to-end tests of the console panel: the real app shell, driver and simulator, driven by labels.
