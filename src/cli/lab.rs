//! `pktforge lab up|down`.

use clap::{Args, Subcommand};

use pktforge::lab::Lab;
use pktforge::{Error, Field, Result};

/// `pktforge lab`.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// up or down.
    #[command(subcommand)]
    pub action: LabAction,
}

/// Lab actions.
#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Build the namespaces PREFIX-a, PREFIX-r1, PREFIX-r2, PREFIX-b and their links (dual stack).
    Up {
        /// Namespace name prefix.
        #[arg(long, default_value = "pf")]
        prefix: String,
        /// Rebuild the lab when namespaces under PREFIX exist already (they are deleted).
        #[arg(long)]
        force: bool,
    },
    /// Remove the lab's namespaces.
    Down {
        /// Namespace name prefix.
        #[arg(long, default_value = "pf")]
        prefix: String,
    },
}

/// Build or remove the lab.
pub fn run(action: LabAction) -> Result<i32> {
    match action {
        LabAction::Up { prefix, force } => {
            if Lab::exists(&prefix) && !force {
                return Err(Error::invalid(
                    Field::LabPrefix,
                    format!(
                        "{prefix:?}: a lab under this prefix exists already (pass --force to \
                         delete and rebuild it, or `pktforge lab down --prefix {prefix}`)"
                    ),
                ));
            }
            let lab = Lab::up_dual(&prefix)?;
            print!("lab {prefix} is up:\n{}", lab.describe());
            lab.keep();
        }
        LabAction::Down { prefix } => {
            Lab::down(&prefix);
            println!("lab {prefix} is down");
        }
    }
    Ok(0)
}
