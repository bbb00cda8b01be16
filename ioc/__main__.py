"""`python -m ioc`: the same CLI as the `ioc` console script."""

from ioc.cli import main

raise SystemExit(main())
