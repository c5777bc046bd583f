// The window: sidebar | (model bar, chat or empty state, composer). Binds to
// the controllers main() passes in; it holds no state of its own beyond what
// is on screen.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import Ossdesk

ApplicationWindow {
    id: window
    required property ChatController chat
    required property ModelController models
    required property AppSettings settings
    property alias settingsDialog: settingsDialog

    width: 1180
    height: 780
    minimumWidth: 720
    minimumHeight: 480
    visible: true
    title: window.chat.currentTitle + " — ossdesk"
    color: Theme.window
    font.pixelSize: Theme.baseSize

    SystemPalette { id: systemPalette }
    Binding { target: Theme; property: "dark"; value: window.settings.theme === "dark" || (window.settings.theme === "system" && systemPalette.window.hslLightness < 0.5) }
    Binding { target: Theme; property: "baseSize"; value: window.settings.fontSize }

    palette.window: Theme.window
    palette.windowText: Theme.text
    palette.base: Theme.raised
    palette.text: Theme.text
    palette.button: Theme.surface
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
    palette.placeholderText: Theme.subtle
    palette.mid: Theme.border
    palette.dark: Theme.accent          // the Basic style's highlighted and checked buttons
    palette.brightText: Theme.accentText
    palette.light: Theme.raised
    palette.midlight: Theme.surface

    Shortcut { sequence: "Ctrl+N"; onActivated: { window.chat.newConversation(); composer.focusInput() } }
    Shortcut { sequence: "Ctrl+F"; onActivated: sidebar.focusSearch() }
    Shortcut { sequence: "Esc"; enabled: window.chat.busy; onActivated: window.chat.stop() }
    Shortcut { sequence: "Ctrl+Shift+C"; onActivated: window.chat.copyLastAnswer() }
    Shortcut { sequence: "Ctrl+O"; onActivated: modelDialog.open() }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Sidebar {
            id: sidebar
            chat: window.chat
            Layout.preferredWidth: 270
            Layout.fillHeight: true
        }

        Rectangle { Layout.fillHeight: true; width: 1; color: Theme.border }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            ModelBar {
                Layout.fillWidth: true
                models: window.models
                onOpenRequested: modelDialog.open()
                onSettingsRequested: settingsDialog.open()
            }

            Rectangle {
                Layout.fillWidth: true
                visible: window.chat.lastError !== "" || window.chat.recoveryMessage !== ""
                implicitHeight: errorText.implicitHeight + 16
                color: Theme.surface
                Label {
                    id: errorText
                    anchors.fill: parent
                    anchors.margins: 8
                    wrapMode: Text.Wrap
                    color: Theme.danger
                    text: window.chat.lastError !== "" ? window.chat.lastError : window.chat.recoveryMessage
                }
                MouseArea { anchors.fill: parent; onClicked: window.chat.clearError() }
            }

            StackLayout {
                Layout.fillWidth: true
                Layout.fillHeight: true
                currentIndex: window.chat.messages.count > 0 ? 1 : 0
                EmptyState { chat: window.chat; models: window.models; onOpenRequested: modelDialog.open() }
                ChatView { id: chatView; chat: window.chat }
            }

            Composer {
                id: composer
                Layout.fillWidth: true
                chat: window.chat
            }
        }
    }

    // "Deleted · Undo" for a few seconds after a conversation is deleted.
    Rectangle {
        visible: window.chat.pendingDeleteTitle !== ""
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
        anchors.bottomMargin: 110
        radius: Theme.radius
        color: Theme.dark ? "#3a3c42" : "#323338"
        implicitWidth: undoRow.implicitWidth + 24
        implicitHeight: undoRow.implicitHeight + 12
        RowLayout {
            id: undoRow
            anchors.centerIn: parent
            Label { text: qsTr("Deleted “%1”").arg(window.chat.pendingDeleteTitle); color: "#ffffff" }
            Button { objectName: "undoDelete"; text: qsTr("Undo"); flat: true; onClicked: window.chat.undoDelete() }
        }
    }

    FileDialog {
        id: modelDialog
        title: qsTr("Open a gpt-oss model (.gguf, or config.json in a Hugging Face folder)")
        nameFilters: [qsTr("Models (*.gguf config.json)"), qsTr("All files (*)")]
        currentFolder: window.settings.modelsFolder !== "" ? "file://" + window.settings.modelsFolder : ""
        onAccepted: {
            const url = selectedFile.toString()
            // A Hugging Face model is its folder: picking its config.json opens the folder.
            window.models.load(url.endsWith("/config.json") ? url.slice(0, -"/config.json".length) : url)
        }
    }

    SettingsDialog {
        id: settingsDialog
        chat: window.chat
        models: window.models
        settings: window.settings
        anchors.centerIn: parent
    }
}
