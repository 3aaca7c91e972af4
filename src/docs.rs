//! Shell completions and man pages, generated from the clap definitions.
//! The committed copies in `completions/` and `man/` are checked by a test.

use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;
use std::path::Path;

use crate::cli::Cli;
use crate::exit;

pub fn print_completions(shell: Shell) -> i32 {
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
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("hb-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub)
            .render(&mut page)
            .expect("rendering to memory cannot fail");
        pages.push((format!("{name}.1"), page));
    }
    pages
}

pub fn man(dir: Option<&Path>) -> i32 {
    let pages = man_pages();
    match dir {
        None => write_stdout(&pages[0].1),
        Some(dir) => {
            for (name, text) in &pages {
                let path = dir.join(name);
                if let Err(e) =
                    std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, text))
                {
                    eprintln!("hb: cannot write {}: {e}", path.display());
                    return exit::FAILURE;
                }
            }
            0
        }
    }
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("hb: cannot write to stdout: {e}");
            exit::FAILURE
        }
    }
}
