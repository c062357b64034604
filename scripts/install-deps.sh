#!/usr/bin/env bash
# Installs the system packages benchtop needs on Debian/Ubuntu (idempotent, non-interactive).
#   build:   C toolchain, pkg-config, libudev (serial port USB details), libusb (USB panel)
#   run:     X11/GL libraries for the window (Mesa works without a GPU)
#   --test:  also what the test suite uses: Xvfb + ImageMagick (screenshots), ser2net (the
#            RFC 2217 client and the fleet are tested against it), tftp-hpa (a real TFTP
#            client for the built-in server), pyedflib (an independent EDF+ reader),
#            sigrok-cli (libsigrok reads the Power panel's VCD exports), python3 and
#            netcat-openbsd (the traffic engine's interop tests)
set -euo pipefail

packages=(
  build-essential pkg-config ca-certificates
  libudev-dev libusb-1.0-0-dev
  libxcursor1 libxi6 libxkbcommon-x11-0 libgl1 libglx-mesa0 libgl1-mesa-dri libegl1
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(xvfb imagemagick ser2net tftp-hpa sigrok-cli python3 netcat-openbsd)
fi

sudo=""
if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "benchtop: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]] && ! python3 -c "import pyedflib" 2>/dev/null; then
  echo "benchtop: installing pyedflib (independent EDF+ reader for the tests)" >&2
  python3 -m pip install --quiet --user pyedflib 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages pyedflib \
    || echo "benchtop: warning: pyedflib could not be installed; the EDF+ cross-check will be skipped" >&2
fi
