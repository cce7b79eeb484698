import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// The way between the live view, the session browser and the replay view, and stale answers on the way.
@Suite struct ReplayWorkspaceTests {
    static let directory = "/srv/pgreel/sessions"
    static let file = directory + "/pseudo_user_2025-10-07_21-30-15.json"

    @Test func liveToBrowserToReplayAndBack() {
        var workspace = ReplayWorkspace(origin: .live, size: .minimum)
        #expect(!workspace.isActive)
        #expect(workspace.openBrowser(directory: Self.directory, recording: []) == [.scan(directory: Self.directory)])
        #expect(workspace.isActive)
        _ = workspace.apply(
            .browser(
                .listed([
                    SessionFileInfo(name: "pseudo_user_2025-10-07_21-30-15.json", path: Self.file, size: 10, modified: Date())
                ])))
        #expect(workspace.handle(.enter) == [.open(path: Self.file, id: 1)])
        #expect(workspace.browser?.opening == Self.file)
        _ = workspace.apply(.opened(id: 1, ReplayFixtures.setup()))
        #expect(workspace.replay != nil)
        #expect(workspace.browser?.opening == nil)
        #expect(workspace.replay?.quitsOnLeave == false)
        #expect(workspace.apply(.replay(id: 1, .connected)).isEmpty)
        #expect(workspace.handle(.character("n")) == [.replay(id: 1, .step)])

        // q closes the replay (after its step) and goes back to the browser; q again to the live view.
        #expect(workspace.handle(.character("q")) == [.replay(id: 1, .close)])
        #expect(workspace.replay != nil, "shown until the connection is closed")
        _ = workspace.apply(.replay(id: 1, .closed))
        #expect(workspace.replay == nil)
        #expect(workspace.browser != nil)
        #expect(workspace.handle(.character("q")).isEmpty)
        #expect(!workspace.isActive)
        #expect(!workspace.shouldQuit)
    }

    @Test func aDirectReplayQuitsWhenLeft() {
        var workspace = ReplayWorkspace(origin: .direct, size: .minimum)
        #expect(workspace.open(path: Self.file) == [.open(path: Self.file, id: 1)])
        #expect(WorkspaceRenderer.render(workspace, size: .minimum).line(0).hasPrefix("Opening \(Self.file)…"))
        _ = workspace.apply(.opened(id: 1, ReplayFixtures.setup()))
        #expect(workspace.replay?.quitsOnLeave == true)
        #expect(workspace.handle(.escape) == [.replay(id: 1, .close)])
        _ = workspace.apply(.replay(id: 1, .closed))
        #expect(workspace.shouldQuit)
    }

    @Test func answersForAViewAlreadyGoneAreIgnoredAndItsSessionClosed() {
        var workspace = ReplayWorkspace(origin: .live, size: .minimum)
        _ = workspace.openBrowser(directory: Self.directory, recording: [])
        _ = workspace.open(path: Self.file)
        _ = workspace.open(path: Self.file)  // a second open before the first answered
        #expect(workspace.apply(.opened(id: 1, ReplayFixtures.setup())) == [.replay(id: 1, .close)])
        #expect(workspace.replay == nil)
        _ = workspace.apply(.opened(id: 2, ReplayFixtures.setup()))
        #expect(workspace.replay != nil)
        // A late answer for view 1 changes nothing.
        let before = workspace.replay
        #expect(workspace.apply(.replay(id: 1, .connected)).isEmpty)
        #expect(workspace.replay == before)
    }

    @Test func aFileThatCannotBeOpenedSaysWhyInTheBrowser() {
        var workspace = ReplayWorkspace(origin: .live, size: .minimum)
        _ = workspace.openBrowser(directory: Self.directory, recording: [])
        _ = workspace.open(path: Self.file)
        _ = workspace.apply(
            .openFailed(id: 1, path: Self.file, message: "\(Self.file) records no connection: pass --db-url"))
        #expect(workspace.replay == nil)
        #expect(workspace.browser?.message == "\(Self.file) records no connection: pass --db-url")
        #expect(workspace.browser?.opening == nil)
    }

    @Test func theRunningSessionsFilesAreMarkedAsRecording() {
        var workspace = ReplayWorkspace(origin: .live, size: .minimum)
        _ = workspace.openBrowser(directory: Self.directory, recording: ["a.json"])
        #expect(workspace.browser?.recording == ["a.json"])
        #expect(workspace.openBrowser(directory: Self.directory, recording: []) == [.scan(directory: Self.directory)])
        #expect(workspace.browser?.recording == [])
    }
}
