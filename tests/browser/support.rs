//! Helpers more than one module's tests use.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;

/// Whether the canvas holds more than one colour.
pub fn has_drawing(canvas: &web_sys::HtmlCanvasElement) -> bool {
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let pixels = context
        .get_image_data(
            0.0,
            0.0,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        )
        .unwrap()
        .data();
    let first = &pixels[0..4];
    pixels.chunks(4).any(|p| p != first)
}
