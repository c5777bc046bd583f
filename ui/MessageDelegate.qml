// One message. The user's on the right in a bubble (edit and resend makes a
// new branch); the model's on the left: its thinking, the answer as Markdown,
// the speed line while streaming or the stats line after, and the actions.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Item {
    id: root
    required property ChatController chat
    required property int index
    required property var messageId
    required property string role
    required property string content
    required property string reasoning
    required property var reasoningPieces
    required property var blocks
    required property string status
    required property bool interrupted
    required property bool streaming
    required property double thinkingMs
    required property string statsLine
    required property int siblingIndex
    required property int siblingCount
    required property string errorText
    property bool isLast: false
    property bool editing: false
    readonly property bool isUser: role === "user"

    implicitHeight: column.implicitHeight

    ColumnLayout {
        id: column
        width: parent.width
        spacing: 6

        // --- the user's message
        Rectangle {
            visible: root.isUser && !root.editing
            Layout.alignment: Qt.AlignRight
            Layout.maximumWidth: root.width * 0.8
            implicitWidth: userText.implicitWidth + 24
            implicitHeight: userText.implicitHeight + 16
            radius: 14
            color: Theme.userBubble
            TextEdit {
                id: userText
                anchors.centerIn: parent
                width: Math.min(implicitWidth, root.width * 0.8 - 24)
                // Hidden texts are laid out all the same: only a user's
                // message fills this one (an answer's text would be laid out
                // again on every streamed frame).
                text: root.isUser ? root.content : ""
                readOnly: true
                selectByMouse: true
                wrapMode: Text.Wrap
                color: Theme.text
                font.pixelSize: Theme.baseSize
            }
        }
        ColumnLayout {
            visible: root.editing
            Layout.fillWidth: true
            TextArea {
                id: editArea
                objectName: "editArea"
                Layout.fillWidth: true
                wrapMode: TextEdit.Wrap
                text: root.editing ? root.content : ""  // each edit starts from the message
            }
            RowLayout {
                Layout.alignment: Qt.AlignRight
                Button { text: qsTr("Cancel"); onClicked: root.editing = false }
                Button {
                    text: qsTr("Send")
                    highlighted: true
                    enabled: root.chat.canSend
                    onClicked: { root.editing = false; root.chat.editAndResend(root.messageId, editArea.text) }
                }
            }
        }

        // --- the model's answer: a user's message builds none of it (a
        // hidden ThinkingSection in every user message was once the one a
        // test clicked)
        Loader {
            active: !root.isUser
            visible: active && root.reasoning !== ""
            Layout.fillWidth: true
            sourceComponent: ThinkingSection {
                pieces: root.reasoningPieces
                text: root.reasoning
                copier: root.chat
                thinkingMs: root.thinkingMs
                thinking: root.streaming && root.content === ""
                answered: root.content !== ""
            }
        }
        Loader {
            active: !root.isUser
            Layout.fillWidth: true
            sourceComponent: MarkdownBody {
                chat: root.chat
                blocks: root.blocks
            }
        }
        Label {
            visible: !root.isUser && root.streaming && root.content === "" && root.reasoning === ""
            text: qsTr("…")
            color: Theme.subtle
        }
        Label {
            visible: root.interrupted || root.status === "cancelled" || root.status === "error"
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.status === "error" ? Theme.danger : Theme.warning
            font.pixelSize: Theme.small
            text: root.interrupted ? qsTr("Interrupted: the app stopped before this answer was finished.")
                : root.status === "cancelled" ? qsTr("Stopped.")
                : qsTr("Error: %1").arg(root.errorText)
        }

        // --- speed, stats and actions
        RowLayout {
            Layout.fillWidth: true
            layoutDirection: root.isUser ? Qt.RightToLeft : Qt.LeftToRight
            spacing: 2
            visible: !root.editing
            BranchSwitcher {
                visible: root.siblingCount > 1
                index: root.siblingIndex
                count: root.siblingCount
                onMove: delta => root.chat.showSibling(root.messageId, delta)
            }
            ToolButton {
                text: qsTr("Copy")
                font.pixelSize: Theme.small
                visible: !root.streaming && root.content !== ""
                onClicked: root.chat.copyText(root.content)
            }
            ToolButton {
                text: qsTr("Edit")
                font.pixelSize: Theme.small
                visible: root.isUser && !root.chat.busy
                onClicked: root.editing = true
            }
            ToolButton {
                objectName: "regenerate"
                text: qsTr("Regenerate")
                font.pixelSize: Theme.small
                visible: !root.isUser && root.isLast && !root.chat.busy
                onClicked: root.chat.regenerate()
            }
            Label {
                objectName: root.streaming ? "liveStats" : "statsLine"
                visible: !root.isUser && text !== ""
                Layout.fillWidth: true
                elide: Text.ElideRight
                color: Theme.subtle
                font.pixelSize: Theme.small
                leftPadding: 6
                text: root.streaming ? root.chat.liveStats : root.statsLine
            }
            Item { Layout.fillWidth: true; visible: root.isUser }  // pushes the user's actions to the right
        }
    }
}
