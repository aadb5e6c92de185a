//! `submission.toml`: a student's own mapping from exercise to file.
//!
//! ```toml
//! time_server = "p7_hw6.py"
//! [exercises]            # the same, in a table, also accepted
//! signals = "hw/week3.py"
//! ```

use crate::error::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE: &str = "submission.toml";

/// The mapping, exercise id to path relative to the submission's root.
pub fn read(root: &Path) -> Result<BTreeMap<String, PathBuf>, Error> {
    let path = root.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(BTreeMap::new());
    };
    let invalid = |message: String| Error::InvalidConfig {
        file: path.clone(),
        message,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
    let mut map = BTreeMap::new();
    for (key, value) in &table {
        match value {
            toml::Value::String(file) => {
                map.insert(key.clone(), PathBuf::from(file));
            }
            toml::Value::Table(inner) if key == "exercises" => {
                for (k, v) in inner {
                    let file = v.as_str().ok_or_else(|| {
                        invalid(format!("exercises.{k} must be a file path string"))
                    })?;
                    map.insert(k.clone(), PathBuf::from(file));
                }
            }
            _ => {
                return Err(invalid(format!(
                    "`{key}` must be a file path string, like {key} = \"{key}.py\""
                )))
            }
        }
    }
    Ok(map)
}
