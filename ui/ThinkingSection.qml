// The model's reasoning (analysis channel), dimmed and foldable. Open while
// there is no answer (the model is thinking, or was stopped or interrupted
// while thinking); it folds itself when the answer starts, unless the user has
// opened or closed it by hand.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ColumnLayout {
    id: root
    property string reasoning
    property double thinkingMs
    property bool thinking: false   // streaming, and no answer yet
    property bool answered: true    // some answer text exists
    property bool userChoice: false
    property bool userExpanded: false
    readonly property bool expanded: userChoice ? userExpanded : !answered
    spacing: 4

    ToolButton {
        objectName: "thinkingHeader"
        padding: 2
        font.pixelSize: Theme.small
        text: (root.expanded ? "▾ " : "▸ ") + (root.thinking ? qsTr("Thinking… %1 s") : qsTr("Thought for %1 s"))
              .arg((root.thinkingMs / 1000).toFixed(1))
        contentItem: Label { text: parent.text; color: Theme.subtle; font: parent.font }
        onClicked: { root.userChoice = true; root.userExpanded = !root.expanded }
    }
    Rectangle {
        visible: root.expanded
        Layout.fillWidth: true
        implicitHeight: reasoningText.implicitHeight + 12
        color: "transparent"
        Rectangle { width: 2; height: parent.height; color: Theme.border }
        TextEdit {
            id: reasoningText
            objectName: "reasoningText"
            x: 12
            y: 6
            width: parent.width - 16
            text: root.reasoning
            readOnly: true
            selectByMouse: true
            wrapMode: Text.Wrap
            color: Theme.subtle
            font.pixelSize: Theme.small
        }
    }
}
