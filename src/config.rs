//! The one TOML file both halves read: `--config FILE`, else `HB_CONFIG`, else
//! `hb/config.toml` in the platform config dir (a missing default file is fine).
//! Precedence: flags > environment > file > defaults. clap resolves flags and the
//! environment; this module adds the file and the defaults.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const DEFAULT_SERVER: &str = "http://localhost:8080";

/// Where the config file is, and whether the user named it.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    pub path: Option<PathBuf>,
    /// Named by `--config` or `HB_CONFIG`: then a missing file is an error.
    pub explicit: bool,
}

impl ConfigSource {
    pub fn locate(flag_or_env: Option<&Path>) -> Self {
        match flag_or_env {
            Some(path) => ConfigSource {
                path: Some(path.to_path_buf()),
                explicit: true,
            },
            None => ConfigSource {
                path: dirs::config_dir().map(|dir| dir.join("hb").join("config.toml")),
                explicit: false,
            },
        }
    }

    /// The file's text; `None` when there is no file to read and none was required.
    pub fn read(&self) -> Result<Option<String>> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !self.explicit => Ok(None),
            Err(e) => Err(e).with_context(|| {
                format!(
                    "cannot read config file {}; check the path given to --config or HB_CONFIG",
                    path.display()
                )
            }),
        }
    }

    pub fn display(&self) -> String {
        self.path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(no config file)".into())
    }
}

/// The wrapper's view of the file: only the keys it uses. Keys meant for the
/// monitor are ignored here, so a monitor-only mistake never disturbs a job.
#[derive(Debug, Default, Deserialize)]
pub struct WrapperFile {
    pub server: Option<String>,
    pub ping_key: Option<String>,
    /// The operator command line's key (`hb checks`, `hb status`, …).
    pub api_key: Option<String>,
    #[serde(default)]
    pub checks: BTreeMap<String, String>,
}

impl WrapperFile {
    pub fn parse(text: &str, source: &ConfigSource) -> Result<Self> {
        toml::from_str(text).map_err(|e| toml_error(source, &e))
    }
}

/// A TOML error as one message naming the file, the line and the problem.
pub fn toml_error(source: &ConfigSource, error: &toml::de::Error) -> anyhow::Error {
    let line = error
        .span()
        .and_then(|span| {
            let text = std::fs::read_to_string(source.path.as_ref()?).ok()?;
            Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
        })
        .map(|n| format!(" line {n}:"))
        .unwrap_or_default();
    anyhow::anyhow!(
        "config file {}{} {}",
        source.display(),
        line,
        error.message().trim_end()
    )
}

/// First of: flag/env (already merged by clap), file, default.
pub fn pick<T>(flag_or_env: Option<T>, file: Option<T>, default: T) -> T {
    flag_or_env.or(file).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        assert_eq!(pick(Some(1), Some(2), 3), 1);
        assert_eq!(pick(None, Some(2), 3), 2);
        assert_eq!(pick(None, None, 3), 3);
    }

    #[test]
    fn wrapper_reads_its_keys_and_ignores_the_monitors() {
        let text = r#"
            server = "https://hb.example.com"
            ping_key = "k3y"
            listen = "0.0.0.0:8080"
            [checks]
            backup = "0b9e5a2c-1111-4222-8333-444455556666"
            [[check]]
            name = "nightly"
        "#;
        let source = ConfigSource::locate(None);
        let file = WrapperFile::parse(text, &source).unwrap();
        assert_eq!(file.server.as_deref(), Some("https://hb.example.com"));
        assert_eq!(file.ping_key.as_deref(), Some("k3y"));
        assert_eq!(
            file.checks["backup"],
            "0b9e5a2c-1111-4222-8333-444455556666"
        );
    }

    #[test]
    fn a_missing_default_file_is_fine_but_a_named_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let implicit = ConfigSource {
            path: Some(missing.clone()),
            explicit: false,
        };
        assert!(implicit.read().unwrap().is_none());
        let named = ConfigSource::locate(Some(&missing));
        let err = format!("{:#}", named.read().unwrap_err());
        assert!(err.contains("nope.toml"), "{err}");
    }

    #[test]
    fn a_broken_file_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "server = \"x\"\nping_key = \n").unwrap();
        let source = ConfigSource::locate(Some(&path));
        let text = source.read().unwrap().unwrap();
        let err = WrapperFile::parse(&text, &source).unwrap_err().to_string();
        assert!(err.contains("config.toml line 2:"), "{err}");
    }
}
