use clap::Parser;

fn main() {
    let cli = hb::cli::Cli::parse();
    std::process::exit(hb::run(cli));
}
