import StrideCueCLI

// `stridecue`: every command. `play --remote` and `coach` run in `stridecue-remote`.
StrideCue.main()
