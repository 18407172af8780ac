fn main() {
    std::process::exit(atmos_auth::run(std::env::args_os()));
}
