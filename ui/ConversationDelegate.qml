// One row of the sidebar: the title (renamed in place on double-click), a pin
// mark, and a menu with rename, pin and delete.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

ItemDelegate {
    id: row
    objectName: "conversationRow"
    required property ChatController chat
    required property var conversationId
    required property string title
    required property bool pinned
    required property bool interrupted
    property bool editing: false

    highlighted: chat.currentConversationId === conversationId
    background: Rectangle {
        radius: Theme.radius
        color: row.highlighted ? Theme.selection : (row.hovered ? Theme.surface : "transparent")
    }
    onClicked: chat.selectConversation(conversationId)
    onDoubleClicked: editing = true

    contentItem: RowLayout {
        spacing: 4
        Label {
            visible: !row.editing
            Layout.fillWidth: true
            text: row.title
            elide: Text.ElideRight
            color: Theme.text
        }
        TextField {
            id: titleEdit
            objectName: "titleEdit"
            visible: row.editing
            Layout.fillWidth: true
            text: row.title
            onVisibleChanged: if (visible) { forceActiveFocus(); selectAll() }
            onAccepted: { row.chat.renameConversation(row.conversationId, text); row.editing = false }
            Keys.onEscapePressed: row.editing = false
            onActiveFocusChanged: if (!activeFocus) row.editing = false
        }
        Label { visible: row.interrupted; text: "!"; color: Theme.warning; ToolTip.text: qsTr("An answer was interrupted"); ToolTip.visible: hovered; property bool hovered: false }
        Label { visible: row.pinned; text: "★"; color: Theme.subtle }
        ToolButton {
            text: "⋯"
            visible: row.hovered || menu.visible
            onClicked: menu.popup()
            Menu {
                id: menu
                MenuItem { text: qsTr("Rename"); onTriggered: row.editing = true }
                MenuItem { text: row.pinned ? qsTr("Unpin") : qsTr("Pin"); onTriggered: row.chat.setPinned(row.conversationId, !row.pinned) }
                MenuItem { text: qsTr("Delete"); onTriggered: row.chat.deleteConversation(row.conversationId) }
            }
        }
    }
}
