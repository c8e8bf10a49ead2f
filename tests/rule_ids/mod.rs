//! The ids of the six bundled EDR-Freeze family rules, shared by the test
//! files that check which rule each fixture event matches.

pub const EDR_FREEZE: &str = "387df17d-3b04-448f-8669-9e7fd5e5fd8c";
pub const LSASS_DUMP: &str = "9f5c1d59-33be-4e60-bcab-85d2f566effd";
pub const WERFAULTSECURE_LOAD: &str = "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b";
pub const USER_FOLDER_LOAD: &str = "416bc4a2-7217-4519-8dc7-c3271817f1d5";
pub const TOOL_CREATION: &str = "c598cc0c-9e70-4852-b9eb-8921af79f598";
pub const WERFAULTSECURE_ARGS: &str = "1f0b4cac-9c81-41f4-95d0-8475ff46b3e2";
