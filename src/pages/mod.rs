//! One module per page.

pub mod account;
pub mod sign_in;
