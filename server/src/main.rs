//! The `localfirst` command-line tool. See `localfirst --help`.

fn main() {
    std::process::exit(localfirst_server::cli::run(std::env::args_os()));
}
