#!/usr/bin/env bash
# Build the ROS 2 workspace against the ros-jazzy-* wheels in the Loci venv (design §7).
# Usage: ros_ws/build.sh [VENV]   (default: .venv next to ros_ws)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "${1:-$here/../.venv}" && pwd)"
py="$venv/bin/python"

# The wheels' CMake targets name the include folders of the machine they were built on;
# they must exist, so point them at this interpreter's and this venv's numpy headers.
pyinc="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
npinc="$("$py" -c 'import numpy; print(numpy.get_include())')"
for pair in "/opt/python/cp311-cp311/include/python3.11=$pyinc" \
            "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include=$npinc"; do
  link="${pair%%=*}" target="${pair#*=}"
  if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
    mkdir -p "$(dirname "$link")" 2>/dev/null && ln -sfn "$target" "$link" || {
      echo "ros_ws/build.sh: cannot create $link -> $target (needs write access to /opt)" >&2
      exit 1
    }
  fi
done

# nav2_msgs has no wheel: unless the venv holds one, build interfaces/nav2_msgs, nav2's
# NavigateToPose action alone with nav2's own definition (a robot's nav2 serves the same).
bases=(src)
[ -d "$venv/share/nav2_msgs" ] || bases+=(interfaces)

export PATH="$venv/bin:$PATH" CMAKE_PREFIX_PATH="$venv" AMENT_PREFIX_PATH="$venv"
cd "$here"
colcon --log-level warning build --symlink-install --event-handlers console_direct- \
  --base-paths "${bases[@]}" \
  --cmake-args -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF
