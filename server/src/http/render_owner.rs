//! Keeps a page render's reactive owner current on every poll of its response.
//!
//! leptos_integration_utils (0.8.9), once a page is rendered, looks up the WASM split
//! manifest and registers the `<link rel="preload">` of the page's chunks with the page's
//! `<head>`, both through `use_context` from whatever owner the thread has current. That is
//! the request's root only because creating it made it current on the thread, and only
//! until another request's render starts on the same worker thread or tokio resumes this
//! one on another. Under load, a page then went out without its chunk preloads or with
//! another page's as well (`/forgot-password`, 16 at once: 1, 27 or 53 to 157 preload
//! links instead of 27 each), so phones fetched the area's chunks late, one after the other.
//!
//! The page context (run inside the render's root owner) records that owner in a slot this
//! middleware put in the request, and every later poll of the response runs with it current.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum::{extract::Request, middleware::Next, response::Response};
use leptos::reactive::owner::{Owner, WeakOwner};

/// The slot, in the request's extensions. Weak: the render keeps its owner alive as long as
/// the page streams, and a strong reference here would make a cycle through the context.
#[derive(Clone, Default)]
pub struct RenderOwnerSlot(Arc<Mutex<Option<WeakOwner>>>);

impl RenderOwnerSlot {
    /// Called from the page context: the current owner is the render's root.
    pub fn record_current(&self) {
        if let (Some(owner), Ok(mut slot)) = (Owner::current(), self.0.lock()) {
            *slot = Some(owner.downgrade());
        }
    }

    fn owner(&self) -> Option<Owner> {
        self.0.lock().ok()?.as_ref()?.upgrade()
    }
}

pub async fn keep_current(mut request: Request, next: Next) -> Response {
    let slot = RenderOwnerSlot::default();
    request.extensions_mut().insert(slot.clone());
    WithRenderOwner {
        slot,
        inner: Box::pin(next.run(request)),
    }
    .await
}

struct WithRenderOwner<F> {
    slot: RenderOwnerSlot,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for WithRenderOwner<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Before the render starts (the first poll) there is no owner yet; within that poll
        // the root it creates is current anyway.
        match self.slot.owner() {
            Some(owner) => owner.with(|| self.inner.as_mut().poll(cx)),
            None => self.inner.as_mut().poll(cx),
        }
    }
}
