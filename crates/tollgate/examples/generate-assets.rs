//! Writes `tollgate`'s man pages and its bash, zsh and fish completions,
//! generated from the clap definition, into a directory for the Debian
//! package: `cargo run -p tollgate --example generate-assets -- OUTDIR`
//! (scripts/package.sh runs it). Generated rather than written by hand so
//! that they cannot drift from the command line they describe.
//!
//! OUTDIR gets `man/tollgate.1` plus one page per subcommand
//! (`man/tollgate-principal-add.1`, …), and `completions/tollgate.bash`,
//! `completions/_tollgate`, `completions/tollgate.fish`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;
use tollgate::cli::Cli;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next().map(PathBuf::from), args.next()) else {
        anyhow::bail!("usage: generate-assets OUTDIR");
    };
    let man = out.join("man");
    let completions = out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_man_pages(&man)?;
    let mut command = Cli::command();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "tollgate", &completions)
            .with_context(|| format!("cannot write the {shell} completion"))?;
    }
    println!("wrote the man pages to {} and the completions to {}", man.display(), completions.display());
    Ok(())
}

/// One page per subcommand, as `git` has, since a subcommand's flags appear
/// only on its own page; the main page also gets what an operator looks for
/// beyond the flags: the files, every environment variable, the unit.
fn write_man_pages(dir: &Path) -> anyhow::Result<()> {
    clap_mangen::generate_to(Cli::command(), dir).context("cannot write the subcommands' man pages")?;

    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let page = clap_mangen::Man::new(command)
        .manual("Tollgate manual")
        .source(concat!("tollgate ", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    page.render_title(&mut roff)?;
    page.render_name_section(&mut roff)?;
    page.render_synopsis_section(&mut roff)?;
    page.render_description_section(&mut roff)?;
    page.render_options_section(&mut roff)?;
    page.render_subcommands_section(&mut roff)?;
    roff.extend_from_slice(operator_sections().as_bytes());
    page.render_version_section(&mut roff)?;
    let path = dir.join("tollgate.1");
    std::fs::write(&path, roff).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// FILES, ENVIRONMENT (every key's variable, from the same list the
/// configuration loader accepts) and SEE ALSO, in roff.
fn operator_sections() -> String {
    let mut roff = String::new();
    roff.push_str(".SH FILES\n");
    for (path, what) in [
        ("/etc/tollgate/tollgate.toml", "the configuration (a conffile; every key listed at its default)"),
        (
            "/var/lib/tollgate/tollgate.db",
            "the SQLite database of the packaged service (with its -wal and -shm)",
        ),
        ("/usr/lib/systemd/system/tollgate.service", "the hardened systemd unit"),
    ] {
        let _ = write!(roff, ".TP\n\\fI{}\\fR\n{}\n", escape(path), escape(what));
    }
    roff.push_str(".SH ENVIRONMENT\n");
    roff.push_str(&escape(
        "Each configuration key is also an environment variable: TOLLGATE_ and the key's path in upper \
         case, levels joined by two underscores. Variables override the file; --listen and --database \
         override both.",
    ));
    roff.push('\n');
    for key in tollgate::config::keys() {
        let variable = format!("TOLLGATE_{}", key.path.to_uppercase().replace('.', "__"));
        let _ = write!(roff, ".TP\n\\fB{}\\fR\n{}\n", escape(&variable), escape(&key.path));
    }
    roff.push_str(
        ".TP\n\\fBRUST_LOG\\fR\nlog filter (default: info for serve, warn otherwise); logs go to stderr\n",
    );
    roff.push_str(
        ".SH SEE ALSO\n\\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1): \\fIjournalctl \\-u tollgate\\fR\n",
    );
    roff
}

/// Minimal roff escaping for text we write ourselves: backslashes, and
/// hyphens so they print as the ASCII hyphen a reader may copy; a leading
/// dot or quote would start a request.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) { format!("\\&{escaped}") } else { escaped }
}
