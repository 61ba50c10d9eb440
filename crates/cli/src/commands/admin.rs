//! Talking to a running Hearth over its admin API: where it listens (from the configuration),
//! the admin token (from the secret store), and requests that turn every failure into words.

use std::time::Duration;

use hearth_core::config::Config;
use serde_json::Value;

use crate::{Context, error::CliError};

/// A tokio runtime for the commands that talk HTTP.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::environment)
}

/// The running instance the configuration points at.
#[derive(Debug, Clone)]
pub struct Admin {
    pub base: String,
    host: String,
    token: hearth_core::Secret<String>,
    http: reqwest::Client,
}

/// Why a request to the running instance failed.
#[derive(Debug)]
pub enum AdminError {
    /// Nothing listens there.
    NotRunning(String),
    /// It answered with an error; the message is its own.
    Refused {
        status: u16,
        message: String,
    },
    Other(String),
}

impl From<AdminError> for CliError {
    fn from(error: AdminError) -> CliError {
        match error {
            AdminError::NotRunning(message) | AdminError::Other(message) => {
                CliError::environment(message)
            }
            AdminError::Refused { status, message } if (400..500).contains(&status) => {
                CliError::invalid(message)
            }
            AdminError::Refused { message, .. } => CliError::environment(message),
        }
    }
}

/// `host:port` where the configured gateway listens, as a client reaches it.
fn address(config: &Config) -> (String, u16) {
    let host = if config.gateway.bind.is_unspecified() || config.gateway.bind.is_loopback() {
        "127.0.0.1".to_owned()
    } else {
        config.gateway.bind.to_string()
    };
    (host, config.gateway.port)
}

/// Whether something accepts connections where the configured gateway listens (checked before
/// reading the admin token, which may ask the user).
pub fn listening(config: &Config) -> bool {
    let (host, port) = address(config);
    format!("{host}:{port}")
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|address| {
            std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
        })
}

impl Admin {
    pub fn new(context: &Context, config: &Config) -> Result<Admin, CliError> {
        let store = context.secret_store()?;
        let token = hearth_secrets::resolve(&store, &config.gateway.admin_token)?;
        let (host, port) = address(config);
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(CliError::environment)?;
        Ok(Admin {
            base: format!("http://{host}:{port}"),
            host: format!("{host}:{port}"),
            token,
            http,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(
                "host",
                format!("localhost:{}", self.host.rsplit(':').next().unwrap_or("")),
            )
            .bearer_auth(self.token.expose())
    }

    /// A request with the admin token; an answer that is not 2xx is an error with its message.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<reqwest::Response, AdminError> {
        let mut request = self.request(method, path).timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| {
            if error.is_connect() {
                AdminError::NotRunning(format!(
                    "no Hearth is running at {}; start it with `hearth serve`",
                    self.host
                ))
            } else {
                AdminError::Other(format!("cannot reach Hearth at {}: {error}", self.host))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Err(AdminError::Refused {
            status: status.as_u16(),
            message: body["error"]["message"]
                .as_str()
                .map_or_else(|| format!("Hearth answered {status}"), str::to_owned),
        })
    }

    /// GET or POST, JSON in and out.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AdminError> {
        let response = self
            .send(method, path, body, Duration::from_secs(600))
            .await?;
        response.json().await.map_err(|error| {
            AdminError::Other(format!("Hearth sent something unreadable: {error}"))
        })
    }
}

/// Runs one admin request to completion on a fresh runtime.
pub fn call(
    context: &Context,
    config: &Config,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, AdminError> {
    let admin = Admin::new(context, config)
        .map_err(|error| AdminError::Other(error.message().to_owned()))?;
    let runtime = runtime().map_err(|error| AdminError::Other(error.message().to_owned()))?;
    runtime.block_on(admin.json(method, path, body.as_ref()))
}
