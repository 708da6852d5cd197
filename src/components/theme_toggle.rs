//! Being written.

use leptos::prelude::*;

#[component]
pub fn ThemeToggle() -> impl IntoView {}
