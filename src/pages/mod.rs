//! One module per page.

pub mod agent;
pub mod agents;
pub mod conversation;
pub mod conversations;
pub mod settings;
pub mod sign_in;
pub mod usage;
pub mod webhook;
