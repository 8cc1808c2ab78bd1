# Source this (bash) to use the Loci ROS 2 workspace from the venv: the built interfaces
# and nodes, Fast DDS on loopback only, and a ROS_DOMAIN_ID of this shell's own unless
# one is set. Nothing leaves 127.0.0.1.
_loci_ws="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_loci_venv="$(cd "$_loci_ws/../.venv" && pwd)"
export AMENT_PREFIX_PATH="$_loci_venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
# shellcheck disable=SC1091
source "$_loci_ws/install/setup.bash"
export PATH="$_loci_venv/bin:$PATH"
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
export FASTRTPS_DEFAULT_PROFILES_FILE="$_loci_ws/dds/fastdds_loopback.xml"
export FASTDDS_DEFAULT_PROFILES_FILE="$FASTRTPS_DEFAULT_PROFILES_FILE"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 200) + 1 ))}"
unset _loci_ws _loci_venv
