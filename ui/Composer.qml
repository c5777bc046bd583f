// Where the user writes. Enter sends, Shift+Enter starts a new line; Stop (or
// Esc) while an answer streams. Disabled, with the reason, while no model is
// loaded. The reasoning effort of the conversation sits beside it.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Rectangle {
    id: root
    required property ChatController chat
    color: Theme.window
    implicitHeight: layout.implicitHeight + 2 * Theme.gap

    function focusInput() { input.forceActiveFocus() }
    function submit() {
        if (root.chat.send(input.text)) input.clear()
    }

    ColumnLayout {
        id: layout
        anchors.fill: parent
        anchors.margins: Theme.gap
        anchors.leftMargin: 24
        anchors.rightMargin: 24
        spacing: 4

        Label {
            visible: root.chat.effortHint !== ""
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            text: root.chat.effortHint
            color: Theme.warning
            font.pixelSize: Theme.small
        }

        Rectangle {
            Layout.fillWidth: true
            implicitHeight: inputRow.implicitHeight + 12
            radius: 12
            color: Theme.raised
            border.color: input.activeFocus ? Theme.accent : Theme.border

            RowLayout {
                id: inputRow
                anchors.fill: parent
                anchors.margins: 6
                ScrollView {
                    Layout.fillWidth: true
                    Layout.maximumHeight: 200
                    TextArea {
                        id: input
                        objectName: "composerInput"
                        enabled: root.chat.canSend || root.chat.busy
                        wrapMode: TextEdit.Wrap
                        placeholderText: root.chat.canSend ? qsTr("Message gpt-oss (Enter to send, Shift+Enter for a new line)")
                                                           : root.chat.sendBlockedReason
                        background: null
                        Keys.onPressed: event => {
                            if ((event.key === Qt.Key_Return || event.key === Qt.Key_Enter) && !(event.modifiers & Qt.ShiftModifier)) {
                                event.accepted = true
                                root.submit()
                            }
                        }
                    }
                }
                EffortSelector {
                    effort: root.chat.reasoningEffort
                    onChosen: e => root.chat.reasoningEffort = e
                }
                Button {
                    objectName: root.chat.busy ? "stopButton" : "sendButton"
                    text: root.chat.busy ? qsTr("Stop") : qsTr("Send")
                    highlighted: !root.chat.busy && enabled
                    enabled: root.chat.busy || (root.chat.canSend && input.text.trim() !== "")
                    onClicked: root.chat.busy ? root.chat.stop() : root.submit()
                }
            }
        }
    }
}
