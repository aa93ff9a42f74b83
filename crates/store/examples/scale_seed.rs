//! Seeds a database for the scale benchmark: `scale_seed URL PRINCIPALS TOKENS`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, principals, tokens] = args.as_slice() else {
        return Err("usage: scale_seed URL PRINCIPALS TOKENS".into());
    };
    let (principals, tokens): (u64, u64) = (principals.parse()?, tokens.parse()?);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let started = std::time::Instant::now();
    runtime.block_on(tollgate_store::seed_scale(url, principals, tokens, |what, done| {
        if done % 1_000_000 == 0 || (what == "principals" && done == principals) {
            eprintln!("{what}: {done} ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }))?;
    eprintln!(
        "seeded {principals} principals and {tokens} tokens in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
