import PackagePlugin

/// Embeds the coach's page (`Page/index.html`, `app.css`, `app.js` in the target's folder) into
/// the target as a generated Swift file, `PageFiles`: one self-contained binary, no resource
/// bundle beside it (SwiftPM's `resources:` would put one there on Linux).
@main
struct EmbedPage: BuildToolPlugin {
    /// The files, and the name each one's text has in `PageFiles`.
    static let files = [("html", "index.html"), ("style", "app.css"), ("script", "app.js")]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = target.directoryURL.appending(path: "Page")
        let inputs = Self.files.map { folder.appending(path: $0.1) }
        let output = context.pluginWorkDirectoryURL.appending(path: "PageFiles.swift")
        return [.buildCommand(
            displayName: "Embedding the coach's page",
            executable: try context.tool(named: "PageEmbedder").url,
            arguments: [output.path()] + zip(Self.files, inputs).map { "\($0.0)=\($1.path())" },
            inputFiles: inputs,
            outputFiles: [output])]
    }
}
