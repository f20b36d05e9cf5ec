//! The `xml2bq` binary: parse arguments, run the subcommand, exit with its code.

use clap::Parser;
use xml2bq::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Load(a) => xml2bq::cli::load::run(*a),
        Command::Validate(a) => xml2bq::cli::validate::run(a),
        Command::Schema(a) => xml2bq::cli::schema::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("xml2bq: error: {e:#}");
            std::process::exit(xml2bq::EXIT_FATAL);
        }
    }
}
