// The visible thread. Follows the bottom while an answer streams, unless the
// user has scrolled up to read.
pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls
import Ossdesk

ListView {
    id: list
    required property ChatController chat
    objectName: "chatView"
    property bool following: true

    clip: true
    spacing: 14
    topMargin: 16
    bottomMargin: 16
    model: chat.messages
    delegate: MessageDelegate {
        id: message
        width: Math.min(list.width - 48, 860)
        x: (list.width - width) / 2
        chat: list.chat
        isLast: message.index === list.count - 1
    }
    ScrollBar.vertical: ScrollBar {}

    onMovementStarted: following = false
    onMovementEnded: following = atYEnd
    onContentHeightChanged: if (following) positionViewAtEnd()
    onCountChanged: { following = true; positionViewAtEnd() }
    Connections {
        target: list.chat
        function onCurrentChanged() { list.following = true; list.positionViewAtEnd() }
    }
}
