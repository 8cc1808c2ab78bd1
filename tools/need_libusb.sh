#!/usr/bin/env bash
# open3d-cpu loads libusb-1.0.so.0 (Debian's libusb-1.0-0) when it is imported. Install it
# where it is missing and we may (root with apt-get); otherwise say what to run.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing libusb-1.0-0 (open3d needs it)"
    apt-get install -y -q libusb-1.0-0 >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q libusb-1.0-0 >/dev/null; }
    exit 0
fi
echo "open3d needs libusb-1.0-0: run 'sudo apt-get install libusb-1.0-0', then make again" >&2
exit 1
