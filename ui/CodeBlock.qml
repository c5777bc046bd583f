// A fenced code block: the language, a copy button, and the code in a
// monospace font that scrolls sideways instead of wrapping.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Rectangle {
    id: root
    required property ChatController chat
    property string code
    property string language
    readonly property Item textItem: codeText  // for a selection across blocks (SelectionSpan)
    signal keyPressed(var event)
    implicitHeight: layout.implicitHeight
    radius: Theme.radius
    color: Theme.codeBackground
    border.color: Theme.border

    ColumnLayout {
        id: layout
        width: parent.width
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: 10
            Label { text: root.language !== "" ? root.language : qsTr("code"); color: Theme.subtle; font.pixelSize: Theme.small; Layout.fillWidth: true }
            ToolButton {
                id: copyButton
                objectName: "copyCode"
                text: copied.running ? qsTr("Copied") : qsTr("Copy")
                font.pixelSize: Theme.small
                onClicked: { root.chat.copyText(root.code); copied.restart() }
                Timer { id: copied; interval: 1500 }
            }
        }
        Flickable {
            Layout.fillWidth: true
            Layout.leftMargin: 10
            Layout.rightMargin: 10
            Layout.bottomMargin: 8
            implicitHeight: codeText.implicitHeight
            contentWidth: codeText.implicitWidth
            flickableDirection: Flickable.HorizontalFlick
            clip: true
            ScrollBar.horizontal: ScrollBar { policy: ScrollBar.AsNeeded }
            TextEdit {
                id: codeText
                text: root.code
                readOnly: true
                selectByMouse: true
                font.family: Theme.mono
                font.pixelSize: Theme.small
                color: Theme.text
                Keys.onPressed: event => root.keyPressed(event)
            }
        }
    }
}
