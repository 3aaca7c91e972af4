//! Shell completions and man pages, generated from the clap definitions.
//! The committed copies in `completions/` and `man/` are checked by a test.

use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::cli::Cli;
use crate::error::Result;

pub fn print_completions(shell: Shell) -> Result<()> {
    let mut out = Vec::new();
    completions(shell, &mut out);
    write_stdout(&out)
}

/// The completion script for one shell.
pub fn completions(shell: Shell, out: &mut Vec<u8>) {
    clap_complete::generate(shell, &mut Cli::command(), "hb", out);
}

/// Every man page: (file name, roff text), `hb.1` first, then `hb-<sub>.1`.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut command = Cli::command();
    command.build();
    let mut pages = Vec::new();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .expect("rendering to memory cannot fail");
    pages.push(("hb.1".to_string(), page));
    sub_pages(&command, "hb", &mut pages);
    pages
}

/// A page for each subcommand, and for theirs (`hb-checks.1`, `hb-checks-add.1`), as
/// the SUBCOMMANDS sections name them.
fn sub_pages(command: &clap::Command, prefix: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("{prefix}-{}", sub.get_name());
        let renamed = sub.clone().name(name.clone());
        let mut page = Vec::new();
        clap_mangen::Man::new(renamed)
            .render(&mut page)
            .expect("rendering to memory cannot fail");
        pages.push((format!("{name}.1"), page));
        sub_pages(sub, &name, pages);
    }
}

pub fn man(dir: Option<&Path>) -> Result<()> {
    let pages = man_pages();
    match dir {
        None => write_stdout(&pages[0].1),
        Some(dir) => {
            for (name, text) in &pages {
                let path = dir.join(name);
                std::fs::create_dir_all(dir)
                    .and_then(|_| std::fs::write(&path, text))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(())
        }
    }
}

/// Writes to stdout; a closed pipe (`hb man | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::Error::from(e)
            .context("cannot write to stdout")
            .into()),
        _ => Ok(()),
    }
}
