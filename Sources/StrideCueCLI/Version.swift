/// StrideCue's version, the one place it is written: `stridecue --version` and
/// `stridecue-remote --version` print it, and CHANGELOG.md's newest heading names it
/// (a test holds the two together).
public enum StrideCueVersion {
    public static let current = "0.3.0-dev"
}
