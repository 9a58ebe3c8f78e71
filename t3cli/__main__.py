"""The `t3` console script."""

from __future__ import annotations


def main() -> None:
    from t3cli.cli.app import run

    run()


if __name__ == "__main__":
    main()
