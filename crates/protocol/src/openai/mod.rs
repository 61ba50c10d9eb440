//! The OpenAI API as it travels: Chat Completions (`chat`), the models list (`models`) and
//! embeddings (`embeddings`), including the extensions local servers add (llama-server's
//! `timings`, `reasoning_content`).
//!
//! Every request and response type keeps the fields it does not name in an `extra` map, so
//! parsing a body and writing it back out — a pass-through to an OpenAI-compatible backend —
//! loses nothing.

pub mod chat;
pub mod embeddings;
pub mod models;
pub mod responses;

pub use chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, ErrorBody,
    ErrorResponse, FinishReason, MessageContent, Role, StreamData, Timings, Usage,
};
