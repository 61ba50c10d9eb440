//! The service entries Hearth writes for the servers its users run, as the seeds learned to run
//! them: Ollama with a 24-hour keep-alive, flash attention and a q8_0 KV cache (the default
//! five-minute unload makes the next request pay a cold start); mlx_lm.server and llama-server on
//! loopback with an explicit port; speech sidecars; any other command.

use std::collections::BTreeMap;

use hearth_core::config::file::{RestartPolicy, ServiceFile, ServiceTemplate};

/// What a template needs to know. Unset fields take the template's defaults.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    /// The program's absolute path; the template's usual install location when absent.
    pub program: Option<String>,
    pub port: Option<u16>,
    /// The model to serve (mlx-lm: a path or Hugging Face id; llama-server: a .gguf file;
    /// whisper: a model name).
    pub model: Option<String>,
    /// The provider the service serves.
    pub provider: Option<String>,
    /// More arguments, appended.
    pub extra_args: Vec<String>,
}

/// Why a template cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the `{template}` template needs {what}")]
    Missing {
        template: &'static str,
        what: &'static str,
    },
}

/// The default port of each template's server.
pub fn default_port(template: ServiceTemplate) -> Option<u16> {
    match template {
        ServiceTemplate::Ollama => Some(11434),
        ServiceTemplate::MlxLm => Some(8080),
        ServiceTemplate::LlamaServer => Some(8081),
        ServiceTemplate::Whisper => Some(8178),
        ServiceTemplate::Tts => Some(8179),
        ServiceTemplate::Custom => None,
    }
}

/// The service entry for `template`.
pub fn render(
    template: ServiceTemplate,
    input: TemplateInput,
) -> Result<ServiceFile, TemplateError> {
    let name = template.as_str();
    let port = input.port.or(default_port(template));
    let port_text = port.map(|port| port.to_string()).unwrap_or_default();
    let need_model = || {
        input.model.clone().ok_or(TemplateError::Missing {
            template: name,
            what: "a model (`--model`)",
        })
    };
    let need_program = |usual: Option<&str>| {
        input
            .program
            .clone()
            .or(usual.map(str::to_owned))
            .ok_or(TemplateError::Missing {
                template: name,
                what: "the program's absolute path (`--program`)",
            })
    };
    let mut env = BTreeMap::new();
    let health = |path: &str| port.map(|port| format!("http://127.0.0.1:{port}{path}"));
    let (program, mut args, health_url) = match template {
        ServiceTemplate::Ollama => {
            for (key, value) in [
                ("OLLAMA_HOST", format!("127.0.0.1:{port_text}")),
                ("OLLAMA_KEEP_ALIVE", "24h".to_owned()),
                ("OLLAMA_FLASH_ATTENTION", "1".to_owned()),
                ("OLLAMA_KV_CACHE_TYPE", "q8_0".to_owned()),
            ] {
                env.insert(key.to_owned(), value);
            }
            let usual = if cfg!(target_os = "macos") {
                "/opt/homebrew/bin/ollama"
            } else {
                "/usr/local/bin/ollama"
            };
            (
                need_program(Some(usual))?,
                vec!["serve".to_owned()],
                health("/api/version"),
            )
        }
        ServiceTemplate::MlxLm => (
            need_program(Some("/opt/homebrew/bin/mlx_lm.server"))?,
            vec![
                "--model".to_owned(),
                need_model()?,
                "--host".to_owned(),
                "127.0.0.1".to_owned(),
                "--port".to_owned(),
                port_text.clone(),
            ],
            health("/v1/models"),
        ),
        ServiceTemplate::LlamaServer => (
            need_program(Some("/opt/homebrew/bin/llama-server"))?,
            vec![
                "-m".to_owned(),
                need_model()?,
                "--host".to_owned(),
                "127.0.0.1".to_owned(),
                "--port".to_owned(),
                port_text.clone(),
            ],
            health("/health"),
        ),
        ServiceTemplate::Whisper => (
            need_program(Some("/opt/homebrew/bin/whisper-server"))?,
            {
                let mut args = vec![
                    "--host".to_owned(),
                    "127.0.0.1".to_owned(),
                    "--port".to_owned(),
                    port_text.clone(),
                ];
                if let Some(model) = &input.model {
                    args.extend(["--model".to_owned(), model.clone()]);
                }
                args
            },
            port.map(|port| format!("http://127.0.0.1:{port}/")),
        ),
        ServiceTemplate::Tts => (
            need_program(None)?,
            vec![
                "--host".to_owned(),
                "127.0.0.1".to_owned(),
                "--port".to_owned(),
                port_text.clone(),
            ],
            port.map(|port| format!("http://127.0.0.1:{port}/")),
        ),
        ServiceTemplate::Custom => (need_program(None)?, Vec::new(), None),
    };
    args.extend(input.extra_args);
    Ok(ServiceFile {
        template: Some(template),
        program,
        args,
        env,
        working_dir: None,
        port,
        health_url,
        log_file: None,
        restart: RestartPolicy::OnFailure,
        start_timeout: hearth_core::config::DurationSpec::from_secs(180),
        provider: input.provider,
        driver: None,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(template: ServiceTemplate, input: TemplateInput, expected: Expect) {
        let rendered = match render(template, input) {
            Ok(file) => serde_json::to_string_pretty(&file).unwrap(),
            Err(error) => error.to_string(),
        };
        expected.assert_eq(&rendered);
    }

    #[test]
    fn ollama_keeps_models_for_a_day_with_flash_attention_and_a_q8_kv_cache() {
        check(
            ServiceTemplate::Ollama,
            TemplateInput {
                program: Some("/opt/homebrew/bin/ollama".into()),
                ..TemplateInput::default()
            },
            expect![[r#"
                {
                  "template": "ollama",
                  "program": "/opt/homebrew/bin/ollama",
                  "args": [
                    "serve"
                  ],
                  "env": {
                    "OLLAMA_FLASH_ATTENTION": "1",
                    "OLLAMA_HOST": "127.0.0.1:11434",
                    "OLLAMA_KEEP_ALIVE": "24h",
                    "OLLAMA_KV_CACHE_TYPE": "q8_0"
                  },
                  "port": 11434,
                  "healthUrl": "http://127.0.0.1:11434/api/version",
                  "restart": "on-failure",
                  "startTimeout": "3m"
                }"#]],
        );
    }

    #[test]
    fn mlx_lm_and_llama_server_listen_on_loopback_with_their_model() {
        check(
            ServiceTemplate::MlxLm,
            TemplateInput {
                model: Some("mlx-community/Qwen3-30B-A3B-4bit".into()),
                provider: Some("mlx".into()),
                ..TemplateInput::default()
            },
            expect![[r#"
                {
                  "template": "mlx-lm",
                  "program": "/opt/homebrew/bin/mlx_lm.server",
                  "args": [
                    "--model",
                    "mlx-community/Qwen3-30B-A3B-4bit",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "8080"
                  ],
                  "port": 8080,
                  "healthUrl": "http://127.0.0.1:8080/v1/models",
                  "restart": "on-failure",
                  "startTimeout": "3m",
                  "provider": "mlx"
                }"#]],
        );
        check(
            ServiceTemplate::LlamaServer,
            TemplateInput {
                program: Some("/opt/llama/bin/llama-server".into()),
                model: Some("/models/smollm2.gguf".into()),
                port: Some(9001),
                extra_args: vec!["-t".into(), "1".into()],
                ..TemplateInput::default()
            },
            expect![[r#"
                {
                  "template": "llama-server",
                  "program": "/opt/llama/bin/llama-server",
                  "args": [
                    "-m",
                    "/models/smollm2.gguf",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "9001",
                    "-t",
                    "1"
                  ],
                  "port": 9001,
                  "healthUrl": "http://127.0.0.1:9001/health",
                  "restart": "on-failure",
                  "startTimeout": "3m"
                }"#]],
        );
    }

    #[test]
    fn a_template_says_what_it_is_missing() {
        check(
            ServiceTemplate::LlamaServer,
            TemplateInput::default(),
            expect!["the `llama-server` template needs a model (`--model`)"],
        );
        check(
            ServiceTemplate::Custom,
            TemplateInput::default(),
            expect!["the `custom` template needs the program's absolute path (`--program`)"],
        );
    }
}
