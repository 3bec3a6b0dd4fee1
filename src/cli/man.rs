//! Shell completions and manual pages, generated from the clap definitions.

use std::path::Path;

use clap::CommandFactory;

use super::Cli;
use pktforge::{Error, Result};

/// Print the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "pktforge", &mut std::io::stdout());
    Ok(0)
}

/// Print pktforge(1), or write it and one page per subcommand into `dir`.
pub fn man(dir: Option<&Path>) -> Result<i32> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .map_err(|e| Error::io("writing the manual page", e))?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    clap_mangen::generate_to(cmd, dir)
        .map_err(|e| Error::io(format!("writing manual pages into {}", dir.display()), e))?;
    Ok(0)
}
