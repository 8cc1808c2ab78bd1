"""ament_python package: the Loci ROS 2 nodes (the core packages come from the Loci venv)."""

from setuptools import setup

PACKAGE = "loci_ros"
NODES = ("perception_node", "memory_node", "planner_node", "sim_node", "bag_player")

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=[PACKAGE],
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Loci developers",
    maintainer_email="dev@loci.invalid",
    description="ROS 2 nodes around the Loci core",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [f"{node} = {PACKAGE}.{node}:main" for node in NODES],
    },
)
