//! The `pktforge` command line: a thin layer over the library (argument parsing, text and JSON
//! rendering of the library's events, exit codes).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
