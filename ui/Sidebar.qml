// Conversations grouped by date (pinned first), a search over titles and
// messages (Ctrl+F), and the new-chat button (Ctrl+N).
// Not `pragma ComponentBehavior: Bound`: on Qt 6.4 the list's section
// delegate cannot be created in a bound file ("Component is not ready"), and
// the date headers vanished.

import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Rectangle {
    id: root
    required property ChatController chat
    color: Theme.sidebar

    function focusSearch() { searchField.forceActiveFocus(); searchField.selectAll() }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.gap
        spacing: Theme.gap

        Button {
            objectName: "newChat"
            Layout.fillWidth: true
            text: qsTr("+  New chat")
            onClicked: root.chat.newConversation()
        }

        TextField {
            id: searchField
            objectName: "search"
            Layout.fillWidth: true
            placeholderText: qsTr("Search chats (Ctrl+F)")
            onTextChanged: searchTimer.restart()
            Keys.onEscapePressed: text = ""
            Timer { id: searchTimer; interval: 150; onTriggered: root.chat.search(searchField.text) }
        }

        ListView {
            id: conversationList
            objectName: "conversationList"
            visible: searchField.text.trim() === ""
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.chat.conversations
            section.property: "section"
            section.delegate: Label {
                required property string section
                objectName: "sectionHeader"
                text: section
                color: Theme.subtle
                font.pixelSize: Theme.small
                font.bold: true
                topPadding: 10
                bottomPadding: 4
                leftPadding: 6
            }
            delegate: ConversationDelegate {
                width: conversationList.width
                chat: root.chat
            }
            ScrollBar.vertical: ScrollBar {}
        }

        ListView {
            id: searchList
            objectName: "searchResults"
            visible: !conversationList.visible
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.chat.searchResults
            delegate: ItemDelegate {
                id: hit
                required property var conversationId
                required property string title
                required property string snippet
                width: searchList.width
                contentItem: ColumnLayout {
                    spacing: 2
                    Label { text: hit.title; font.bold: true; elide: Text.ElideRight; Layout.fillWidth: true; color: Theme.text }
                    Label {
                        // storage marks matches with [ ]; show them bold
                        text: hit.snippet.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/\[/g, "<b>").replace(/\]/g, "</b>")
                        textFormat: Text.StyledText
                        wrapMode: Text.Wrap
                        maximumLineCount: 2
                        elide: Text.ElideRight
                        Layout.fillWidth: true
                        color: Theme.subtle
                        font.pixelSize: Theme.small
                    }
                }
                onClicked: root.chat.selectConversation(hit.conversationId)
            }
            Label {
                anchors.centerIn: parent
                visible: searchList.count === 0
                text: qsTr("No chat matches")
                color: Theme.subtle
            }
        }
    }
}
