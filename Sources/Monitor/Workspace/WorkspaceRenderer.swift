import ProxyEngine

/// Draws whatever the workspace shows: the replay view, else the browser, else the file being opened. Pure.
public enum WorkspaceRenderer {
    public static func render(_ workspace: ReplayWorkspace, size: ScreenSize) -> ScreenBuffer {
        if let replay = workspace.replay {
            return ReplayViewRenderer.render(replay, size: size)
        }
        if let browser = workspace.browser {
            return SessionBrowserRenderer.render(browser, size: size)
        }
        var screen = ScreenBuffer(size: size)
        if let path = workspace.openingPath {
            screen.write("Opening " + DisplayText.clean(path) + "…", row: 0, column: 0, style: .running)
        } else if let failure = workspace.failure {
            screen.write(DisplayText.clean(failure), row: 0, column: 0, style: .failure)
            screen.write("Press any key.", row: 1, column: 0, style: .dim)
        }
        return screen
    }
}
