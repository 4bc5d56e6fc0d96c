from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="naslib-agnet",
    version="0.4.0",
    description="AG-Net (generative NAS by latent-space optimisation, ECCV 2022) as a NASLib plugin",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["naslib_agnet", "naslib_agnet.*"]),
    package_data={"naslib_agnet.weights": ["*.pt", "*.md"]},
    install_requires=["torch>=2.1,<3", "numpy>=1.24", "pyyaml>=6", "tqdm>=4.60", "threadpoolctl>=3"],
    # xgb: the XGB variants (agnet_xgb, agnet_xgb_ranking); on a machine without a GPU the smaller
    # xgboost-cpu wheel provides the same module (the Makefile installs it)
    # nb301: the DARTS space's surrogate oracle (YAHPO's NB301 model in ONNX)
    extras_require={"plot": ["matplotlib>=3.7"], "xgb": ["xgboost>=2"], "nb301": ["onnxruntime>=1.16"],
                    "test": ["pytest>=7", "matplotlib>=3.7", "scipy>=1.10", "onnxruntime>=1.16"]},
    entry_points={"console_scripts": ["naslib-agnet=naslib_agnet.cli.main:main"]},
)
