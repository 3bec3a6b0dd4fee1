fn main() {
    std::process::exit(pktforge::cli::main());
}
