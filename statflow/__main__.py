from statflow.cli import main

raise SystemExit(main())
