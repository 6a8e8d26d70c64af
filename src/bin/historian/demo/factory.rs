//! Synthetic factory data for the demo: presses, ovens and pumps on production lines,
//! each with four sensors (temperature, pressure, vibration, motor current), sampled at
//! 1 Hz. The signals follow simple physical stories so they look like real recordings:
//! presses stroke every few seconds (pressure, vibration and current pulse together),
//! ovens chase a setpoint that alternates between recipes with a first-order lag and a
//! bang-bang heater, pumps hold a pressure with slow drift, bearing wear and rare
//! vibration bursts. Values are rounded to each sensor's resolution.

use historian::{Result, SeriesKey};

use crate::rng::{round_to, Rng};

/// Machine kinds, assigned round-robin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Press,
    Oven,
    Pump,
}

/// The four sensors of every machine: measurement, sensor id, decimals.
pub const SENSORS: [(&str, &str, i32); 4] = [
    ("temperature", "thermo-1", 2),
    ("pressure", "pt-1", 3),
    ("vibration", "accel-1", 4),
    ("current", "ct-1", 2),
];

/// Machines per production line.
const MACHINES_PER_LINE: u64 = 5;

/// One simulated sensor signal and its state.
#[derive(Debug, Clone)]
pub struct Signal {
    pub key: SeriesKey,
    kind: Kind,
    sensor: usize,
    decimals: i32,
    rng: Rng,
    /// Stroke period (presses) in seconds, and phase.
    period: f64,
    phase: f64,
    /// Lagging state (oven temperature) and burst countdown (pump vibration).
    state: f64,
    burst: u32,
}

/// Every signal of `machines` machines.
pub fn signals(machines: u64) -> Result<Vec<Signal>> {
    let mut out = Vec::with_capacity(machines as usize * SENSORS.len());
    let mut counts = [0u32; 3];
    for m in 0..machines {
        let kind = [Kind::Press, Kind::Oven, Kind::Pump][(m % 3) as usize];
        let (prefix, n) = match kind {
            Kind::Press => ("press", &mut counts[0]),
            Kind::Oven => ("oven", &mut counts[1]),
            Kind::Pump => ("pump", &mut counts[2]),
        };
        *n += 1;
        let machine = format!("{prefix}-{:02}", *n);
        let line = format!("L{}", m / MACHINES_PER_LINE + 1);
        for (sensor, (measurement, id, decimals)) in SENSORS.iter().enumerate() {
            let tags = [
                ("line", line.as_str()),
                ("machine", &machine),
                ("sensor", id),
            ];
            let mut rng = Rng::new(m * 16 + sensor as u64 + 1);
            let period = 3.5 + 2.0 * Rng::new(m + 1).uniform();
            let phase = period * rng.uniform();
            out.push(Signal {
                key: SeriesKey::new(*measurement, tags)?,
                kind,
                sensor,
                decimals: *decimals,
                rng,
                period,
                phase,
                state: 25.0,
                burst: 0,
            });
        }
    }
    Ok(out)
}

impl Signal {
    /// The value at `t` seconds after the start (called with increasing `t`).
    pub fn sample(&mut self, t: f64) -> f64 {
        let noise = self.rng.normal();
        let v = match self.kind {
            Kind::Press => self.press(t, noise),
            Kind::Oven => self.oven(t, noise),
            Kind::Pump => self.pump(t, noise),
        };
        round_to(v, self.decimals)
    }

    fn press(&self, t: f64, noise: f64) -> f64 {
        let p = ((t + self.phase) % self.period) / self.period;
        let pulse = (-((p - 0.3) / 0.06).powi(2)).exp();
        match self.sensor {
            0 => 38.0 + 12.0 * (1.0 - (-t / 1800.0).exp()) + 0.3 * sine(t, 600.0) + 0.05 * noise,
            1 => 2.0 + 180.0 * pulse + 0.5 * noise,
            2 => 0.2 + 1.5 * pulse + 0.02 * noise,
            _ => 12.0 + 40.0 * pulse + 0.3 * noise,
        }
    }

    fn oven(&mut self, t: f64, noise: f64) -> f64 {
        // Recipes alternate every 40 minutes between 180 °C and 220 °C.
        let setpoint = if ((t / 2400.0) as u64).is_multiple_of(2) {
            180.0
        } else {
            220.0
        };
        let heating = self.state < setpoint - 1.0;
        match self.sensor {
            0 => {
                self.state += (setpoint - self.state) / 300.0 + 0.1 * noise;
                self.state
            }
            1 => 1.013 + 0.002 * sine(t, 900.0) + 0.0005 * noise,
            2 => 0.05 + 0.01 * noise.abs(),
            _ => {
                self.state += (setpoint - self.state) / 300.0;
                if heating {
                    30.0 + 0.5 * noise
                } else {
                    8.0 + 0.5 * noise
                }
            }
        }
    }

    fn pump(&mut self, t: f64, noise: f64) -> f64 {
        match self.sensor {
            0 => 45.0 + 5.0 * (1.0 - (-t / 3600.0).exp()) + 0.1 * noise,
            1 => 4.2 + 0.1 * sine(t, 3600.0) + 0.03 * noise,
            2 => {
                if self.burst == 0 && self.rng.uniform() < 0.0005 {
                    self.burst = 60;
                }
                let extra = if self.burst > 0 {
                    self.burst -= 1;
                    2.0
                } else {
                    0.0
                };
                0.8 + 0.2 * t / 7200.0 + extra + 0.05 * noise
            }
            _ => 18.0 + 0.8 * sine(t, 3600.0) + 0.2 * noise,
        }
    }
}

fn sine(t: f64, period: f64) -> f64 {
    (std::f64::consts::TAU * t / period).sin()
}
