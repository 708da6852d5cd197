//! Field checks shared by the request validators: each failure names its field, and a
//! request answers with every failure at once.

use converra_api::FieldError;

use crate::error::ApiError;

/// Collects field errors; `finish` turns them into one `VALIDATION_ERROR`.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A required text: not blank, at most `max` characters as sent (the schema's
    /// `maxLength`), kept trimmed.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.fail(field, "must not be empty");
        } else if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        trimmed.to_owned()
    }

    /// An optional text: `None` stays `None`, otherwise as [`Checks::text`].
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        value.map(|v| self.text(field, v, max))
    }

    pub fn range_f64(
        &mut self,
        field: &str,
        value: Option<f64>,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        if let Some(v) = value {
            if !v.is_finite() || v < min || v > max {
                self.fail(field, format!("must be between {min} and {max}"));
            }
        }
        value
    }

    pub fn range_u32(
        &mut self,
        field: &str,
        value: Option<u32>,
        min: u32,
        max: u32,
    ) -> Option<u32> {
        if let Some(v) = value {
            if v < min || v > max {
                self.fail(field, format!("must be between {min} and {max}"));
            }
        }
        value
    }

    pub fn one_of(&mut self, field: &str, value: Option<&str>, allowed: &[&str]) -> Option<String> {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.fail(field, format!("must be one of: {}", allowed.join(", ")));
            }
        }
        value.map(str::to_owned)
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}
