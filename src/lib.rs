//! sigma-edge checks Windows event logs against Sigma rules, on the machine
//! where the logs are: natively, or compiled to WebAssembly in a browser tab, a
//! JavaScript SIEM plugin or an edge worker.
//!
//! Its default rule set is the EDR-Freeze family: the Sysmon ProcessAccess
//! event left when `WerFaultSecure.exe` is made to dump `MsMpEng.exe`, and
//! the related process-creation, image-load and LSASS traces. Any other
//! Sigma rule can be loaded beside them.
//!
//! The data flows through one module per stage:
//! [`scanner`] (format sniffing and record readers in [`reader`]) →
//! [`event`] (fields under their Sigma names, via [`fields`]) →
//! [`engine`] (log-source gate from [`logsource`], then the rule's
//! [`sigma`] condition over [`matcher`] patterns) → [`Match`]es.
//!
//! ```
//! use sigma_edge::{Engine, Event};
//!
//! let engine = Engine::with_default_rules();
//! let event = Event::from_json(&serde_json::json!({
//!     "EventID": 10,
//!     "Channel": "Microsoft-Windows-Sysmon/Operational",
//!     "SourceImage": r"C:\Windows\System32\WerFaultSecure.exe",
//!     "TargetImage": r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.25100.9008-0\MsMpEng.exe",
//!     "CallTrace": r"C:\Windows\System32\dbgcore.DLL+164cc",
//! }))
//! .unwrap();
//! let matches = engine.evaluate(&event);
//! assert_eq!(matches[0].rule_id, "387df17d-3b04-448f-8669-9e7fd5e5fd8c");
//! ```
#![forbid(unsafe_code)]

pub mod dispatch;
pub mod engine;
pub mod error;
pub mod event;
pub mod fields;
pub mod limits;
pub mod logsource;
pub mod matcher;
pub mod prefilter;
pub mod reader;
pub mod scanner;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod sigma;

pub use engine::{Engine, EngineBuilder, Match, Reason, RuleNote};
pub use error::{InputError, RuleError, RuleErrorKind, Warning};
pub use event::Event;
pub use limits::Limits;
pub use scanner::{scan_bytes, Scanner, Summary};
