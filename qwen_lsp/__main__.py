from qwen_lsp.cli import main

raise SystemExit(main())
