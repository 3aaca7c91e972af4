//! `hb channels [list|test]`.

use serde_json::Value;

use super::table::{Cell, Style, Table};
use super::{Client, colour, encode, print, print_json};
use crate::cli::{ChannelsArgs, ChannelsCommand};
use crate::config::ConfigSource;
use crate::error::{Error, Result};

pub fn cmd_channels(args: ChannelsArgs, source: &ConfigSource) -> Result<i32> {
    let client = Client::new(&args.client, source)?;
    match args.command {
        None => list(&client, args.json),
        Some(ChannelsCommand::List { json }) => list(&client, json || args.json),
        Some(ChannelsCommand::Test { name }) => {
            let path = format!("/api/v1/channels/{}/test", encode(&name));
            let answer = client.json("POST", &path, None)?;
            let code = answer["status_code"]
                .as_u64()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            if answer["ok"] == true {
                print(&format!(
                    "a test alert was delivered to channel {name:?}{code}\n"
                ))?;
                Ok(0)
            } else {
                Err(Error::Failed(anyhow::anyhow!(
                    "the test alert to channel {name:?} was not delivered{code}: {}",
                    answer["error"].as_str().unwrap_or("no reason given")
                )))
            }
        }
    }
}

fn list(client: &Client, json: bool) -> Result<i32> {
    let answer = client.get("/api/v1/channels")?;
    if json {
        print_json(&answer)?;
        return Ok(0);
    }
    let channels = answer["channels"].as_array().cloned().unwrap_or_default();
    if channels.is_empty() {
        print(
            "no channels yet; declare one in the config file ([[channel]]) or POST /api/v1/channels\n",
        )?;
        return Ok(0);
    }
    print(&list_table(&channels).render(colour()))?;
    Ok(0)
}

/// Where a channel's alerts go, in a few words (secrets come masked already).
fn target(channel: &Value) -> String {
    for key in ["url", "server", "smtp", "api_url"] {
        if let Some(text) = channel[key].as_str() {
            let mut text = text.to_string();
            if key == "server"
                && let Some(topic) = channel["topic"].as_str()
            {
                text = format!("{}/{topic}", text.trim_end_matches('/'));
            }
            return text;
        }
    }
    if let Some(argv) = channel["argv"].as_array() {
        let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
        return words.join(" ");
    }
    if let Some(chat) = channel.get("chat_id").filter(|v| !v.is_null()) {
        return format!(
            "chat {}",
            chat.as_str().map_or(chat.to_string(), str::to_string)
        );
    }
    "-".into()
}

/// The table of `hb channels`.
pub fn list_table(channels: &[Value]) -> Table {
    let mut table = Table::new(&["NAME", "KIND", "MANAGED", "TARGET"]);
    for channel in channels {
        let managed = channel["managed"] == true;
        table.push(vec![
            Cell::new(channel["name"].as_str().unwrap_or_default()),
            Cell::new(channel["kind"].as_str().unwrap_or_default()),
            Cell::styled(
                if managed { "file" } else { "api" },
                if managed { Style::Plain } else { Style::Dim },
            ),
            Cell::new(target(channel)),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channels_in_a_table() {
        let channels = [
            json!({"name": "ops", "kind": "webhook", "url": "https://hooks.example/hb?••••", "managed": true}),
            json!({"name": "phone", "kind": "ntfy", "server": "https://ntfy.sh", "topic": "hb", "managed": false}),
            json!({"name": "page", "kind": "command", "argv": ["/bin/page", "--now"], "managed": true}),
        ];
        assert_eq!(
            list_table(&channels).render(false),
            "NAME   KIND     MANAGED  TARGET\n\
             ops    webhook  file     https://hooks.example/hb?••••\n\
             phone  ntfy     api      https://ntfy.sh/hb\n\
             page   command  file     /bin/page --now\n"
        );
    }
}
