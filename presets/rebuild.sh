#!/usr/bin/env bash
# Rebuilds every shipped preset from its training command (seeded, CPU; about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m playground train realnvp moons --steps 3000 --seed 0 --device cpu --out presets/realnvp-moons
python -m playground train maf 8gaussians --steps 3000 --seed 0 --device cpu --out presets/maf-8gaussians
python -m playground train planar U1 --steps 2000 --seed 0 --device cpu --out presets/planar-U1
