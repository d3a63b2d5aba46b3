;;; qwen-lsp with eglot (Emacs 29+): M-x eglot in a Python, JS, TS, Go or Rust buffer,
;;; then M-x eglot-code-actions on a function.
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode js-mode js-ts-mode typescript-ts-mode
                  go-mode go-ts-mode rust-mode rust-ts-mode)
                 . ("qwen-lsp")))
  (setq-default eglot-workspace-configuration
                '(:qwenLsp (:explanationLanguage "auto"))))
