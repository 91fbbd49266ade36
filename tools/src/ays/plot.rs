//! `pico ays plot`: log σ vs step for AYS and the baselines (PNG, plotters bitmap backend).

use std::path::PathBuf;

use anyhow::Context;
use plotters::prelude::*;

use super::schedules::{compute, ConventionArg, Kind, ModelArg, ScheduleArgs};

/// `pico ays plot` arguments.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// Output PNG.
    #[arg(long, default_value = "schedules.png")]
    pub out: PathBuf,
    /// Model (AYS table and σ range of the baselines).
    #[arg(long, value_enum, default_value = "sd15")]
    pub model: ModelArg,
    /// Number of steps.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Extra schedule(s) to overlay: JSON files holding an array of σ values (e.g. the output
    /// of `pico ays optimize`), labelled by file stem.
    #[arg(long)]
    pub extra: Vec<PathBuf>,
    /// TrueType font for the labels (omitted if the file cannot be read).
    #[arg(
        long,
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    pub font: PathBuf,
}

/// Runs `pico ays plot`.
pub fn run(a: PlotArgs) -> anyhow::Result<()> {
    let mut series: Vec<(String, Vec<f32>)> = vec![];
    let kinds = [
        (Kind::Ays, "AYS"),
        (Kind::Edm, "EDM (rho=7)"),
        (Kind::Exponential, "exponential (log-SNR)"),
        (Kind::KlOptimal, "kl_optimal"),
        (Kind::TimeUniform, "time-uniform"),
    ];
    for (kind, name) in kinds {
        if kind == Kind::TimeUniform && a.model == ModelArg::Svd {
            continue;
        }
        let args = ScheduleArgs {
            model: a.model,
            steps: a.steps,
            denoise: 1.0,
            convention: ConventionArg::Comfy,
            schedule: kind,
            sigma_min: None,
            sigma_max: None,
            rho: 7.0,
            json: false,
        };
        series.push((name.to_string(), compute(&args)?));
    }
    for p in &a.extra {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let v: Vec<f32> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        series.push((name, v));
    }
    let has_font = match std::fs::read(&a.font) {
        Ok(bytes) => {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        }
        Err(_) => false,
    };
    draw(&a, &series, has_font).map_err(|e| anyhow::anyhow!("plotting: {e}"))?;
    eprintln!("wrote {}", a.out.display());
    Ok(())
}

fn draw(
    a: &PlotArgs,
    series: &[(String, Vec<f32>)],
    has_font: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(&a.out, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let positive = series
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .filter(|v| *v > 0.0);
    let (lo, hi) = positive.fold((f32::INFINITY, 0f32), |(l, h), v| (l.min(v), h.max(v)));
    let (ylo, yhi) = ((lo as f64).ln() - 0.3, (hi as f64).ln() + 0.3);
    let xmax = series
        .iter()
        .map(|(_, s)| s.len())
        .max()
        .unwrap_or(2)
        .saturating_sub(2) as f64;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if has_font {
        builder
            .caption(
                format!(
                    "{:?}: sigma schedules, {} steps (final 0 omitted)",
                    a.model, a.steps
                ),
                ("sans-serif", 22),
            )
            .x_label_area_size(45)
            .y_label_area_size(60);
    }
    let mut chart = builder.build_cartesian_2d(0f64..xmax.max(1.0), ylo..yhi)?;
    if has_font {
        chart
            .configure_mesh()
            .x_desc("step i")
            .y_desc("ln sigma_i")
            .draw()?;
    } else {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .draw()?;
    }
    let palette = [
        RED,
        BLUE,
        GREEN,
        MAGENTA,
        CYAN,
        BLACK,
        RGBColor(255, 140, 0),
    ];
    for (k, (name, s)) in series.iter().enumerate() {
        let color = palette[k % palette.len()];
        let pts: Vec<(f64, f64)> = s
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, v)| (i as f64, f64::from(*v).ln()))
            .collect();
        let line = chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
        if has_font {
            line.label(name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
    }
    if has_font {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
