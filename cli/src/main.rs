//! The `localfirst` command-line tool. See `localfirst --help`.

fn main() {
    std::process::exit(localfirst_cli::cli::run(std::env::args_os()));
}
