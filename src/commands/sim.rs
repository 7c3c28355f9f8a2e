//! `mirrorflow sim serve` and `mirrorflow sim export`: the simulated venue as a
//! program (DESIGN §8).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use connectors::hyperliquid::keys::address_of;
use connectors::sim::export::export;
use connectors::sim::faults::Faults;
use connectors::sim::{ClockMode, SimConfig, TEST_NANSEN_KEY, VenueOptions};
use indicatif::{ProgressBar, ProgressStyle};
use sha3::{Digest, Keccak256};

use crate::cli::{SimExportArgs, SimServeArgs, WorldArgs};

/// USDC the venue deposits for the operator account that `--write-config` sets up.
pub const OPERATOR_DEPOSIT_USD: u64 = 100_000;

impl WorldArgs {
    pub fn sim_config(&self) -> anyhow::Result<SimConfig> {
        let t0_ms = match &self.t0 {
            Some(date) => chrono_date(date)?,
            None => connectors::sim::DEFAULT_T0_MS,
        };
        if self.wallets < 10 {
            bail!("--wallets must be at least 10 (got {})", self.wallets);
        }
        if self.tokens == 0 || self.tokens > 30 {
            bail!("--tokens must be between 1 and 30 (got {})", self.tokens);
        }
        Ok(SimConfig {
            seed: self.seed,
            wallets: self.wallets,
            tokens: self.tokens,
            t0_ms,
            warmup_days: self.warmup_days,
            external_accounts: Vec::new(),
        })
    }
}

/// Milliseconds of a `YYYY-MM-DD` date at 00:00 UTC.
fn chrono_date(text: &str) -> anyhow::Result<u64> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("--t0 {text:?} is not YYYY-MM-DD"))?;
    let ms = date.and_hms_opt(0, 0, 0).context("midnight")?.and_utc().timestamp_millis();
    u64::try_from(ms).with_context(|| format!("--t0 {text:?} is before 1970"))
}

/// The private key of the operator account of a venue with `seed`: fixed per seed
/// so a written config keeps working across restarts of the same venue.
pub fn operator_key(seed: u64) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(b"mirrorflow/sim/operator-key\0");
    h.update(seed.to_be_bytes());
    h.finalize().into()
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// Writes a complete mirrorflow config pointing at the venue, and the key files
/// it names (owner-only), so `mirrorflow run --config FILE` needs nothing else.
fn write_config(file: &Path, http: &str, ws: &str, seed: u64, operator: [u8; 20]) -> anyhow::Result<()> {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("sim");
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let key_name = format!("{stem}.hl-key");
    let nansen_name = format!("{stem}.nansen-key");
    write_private(&dir.join(&key_name), &format!("0x{}\n", hex::encode(operator_key(seed))))?;
    write_private(&dir.join(&nansen_name), &format!("{TEST_NANSEN_KEY}\n"))?;
    let text = format!(
        "# Written by `mirrorflow sim serve --seed {seed}` for the simulated venue at {http}.\n\
         # Everything else is at its default (see config/mirrorflow.example.toml).\n\n\
         [hyperliquid]\napi_url = \"{http}\"\nws_url = \"{ws}\"\nnetwork = \"mainnet\"\n\n\
         [nansen]\napi_url = \"{http}\"\n\n\
         [clock]\nsource = \"venue\"\n\n\
         [state]\ndir = \"{stem}-state\"\n\n\
         [keys]\n# Test keys the venue funds ({OPERATOR_DEPOSIT_USD} USDC); files are owner-only.\n\
         private_key_file = \"{key_name}\"\nnansen_api_key_file = \"{nansen_name}\"\naccount_address = \"0x{}\"\n",
        hex::encode(operator)
    );
    std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

pub async fn serve(args: &SimServeArgs) -> anyhow::Result<()> {
    let mut sim = args.world.sim_config()?;
    let operator = address_of(&operator_key(sim.seed)).context("operator key")?;
    sim.external_accounts.push((operator, OPERATOR_DEPOSIT_USD));
    let clock = if args.stepped { ClockMode::Stepped } else { ClockMode::Speed(args.speed) };
    let valid_speed = args.speed > 0.0 && args.speed <= 1_000_000.0;
    if !args.stepped && !valid_speed {
        bail!("--speed must be within (0, 1000000] (got {})", args.speed);
    }
    let options = VenueOptions {
        sim: sim.clone(),
        clock,
        nansen_keys: [(TEST_NANSEN_KEY.to_string(), args.nansen_credits)].into_iter().collect(),
        nansen_per_second: args.nansen_per_second,
        nansen_per_minute: args.nansen_per_minute,
        info_weight_per_minute: args.info_weight_per_minute,
        mainnet: true,
        faults: Faults::parse(&args.faults).map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
        ws_idle_secs: 60,
        record_wire_times: false,
    };
    let listen: SocketAddr = args.listen.parse().with_context(|| format!("--listen {:?}", args.listen))?;
    eprintln!(
        "building the world: seed {}, {} wallets, {} tokens, {} days of history…",
        sim.seed, sim.wallets, sim.tokens, sim.warmup_days
    );
    let started = Instant::now();
    let venue = connectors::sim::start(options, listen).await.context("cannot start the venue")?;
    let (http, ws) = (venue.http_url(), venue.ws_url());
    println!("hyperliquid api: {http}  (POST /info)");
    println!("nansen api:      {http}  (POST /api/v1/…, apiKey {TEST_NANSEN_KEY})");
    println!(
        "virtual time:    {http}/sim/time  ({})",
        match clock {
            ClockMode::Stepped => "stepped: POST /sim/advance {\"to_ms\": …}".to_string(),
            ClockMode::Speed(x) => format!("{x}× real time"),
        }
    );
    println!("operator account 0x{} funded with {OPERATOR_DEPOSIT_USD} USDC", hex::encode(operator));
    if let Some(file) = &args.write_config {
        write_config(file, &http, &ws, sim.seed, operator)?;
        println!("config written:  {}", file.display());
    }
    println!("ready in {:.1} s; Ctrl-C stops", started.elapsed().as_secs_f64());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    venue.stop().await;
    Ok(())
}

pub fn export_history(args: &SimExportArgs) -> anyhow::Result<()> {
    let sim = args.world.sim_config()?;
    if args.out.exists() && std::fs::read_dir(&args.out).map(|mut d| d.next().is_some()).unwrap_or(false) {
        bail!("--out {} exists and is not empty", args.out.display());
    }
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let manifest = export(sim, args.days, &args.out, &mut |stage: &str, done: u64, total: u64| {
        bar.set_message(stage.to_string());
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("export to {}", args.out.display()))?;
    bar.finish_and_clear();
    let bytes = dir_size(&args.out);
    let fills = manifest.files.iter().find(|f| f.path.ends_with("node_fills.jsonl")).map(|f| f.rows).unwrap_or(0);
    println!(
        "exported seed {}: {} wallets, {} tokens, {} days ({} of warm-up) to {}",
        manifest.seed,
        manifest.wallets,
        manifest.tokens.len(),
        manifest.warmup_days + manifest.days,
        manifest.warmup_days,
        args.out.display()
    );
    println!(
        "{} files, {fills} fills, {:.1} MiB in {:.1} s",
        manifest.files.len() + 1,
        bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn dir_size(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    total += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_to_utc_midnight() {
        assert_eq!(chrono_date("2026-01-01").unwrap(), connectors::sim::DEFAULT_T0_MS);
        assert_eq!(chrono_date("1970-01-02").unwrap(), 86_400_000);
        assert!(chrono_date("2026-13-01").is_err());
        assert!(chrono_date("yesterday").is_err());
    }

    #[test]
    fn the_operator_key_is_valid_and_fixed_per_seed() {
        assert_eq!(operator_key(1), operator_key(1));
        assert_ne!(operator_key(1), operator_key(2));
        assert!(address_of(&operator_key(1)).is_some());
    }
}
