// The model's reasoning (analysis channel), dimmed and foldable. Open while
// there is no answer (the model is thinking, or was stopped or interrupted
// while thinking); it folds itself when the answer starts, unless the user has
// opened or closed it by hand. The text comes in pieces (split_plain_text,
// app/gui/text_pieces.h), one text item each, drawn one under another with no
// gap: as one item, a long reasoning was laid out whole on every streamed frame.
// A selection runs across the pieces (SelectionSpan).
pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "ListSync.js" as ListSync

ColumnLayout {
    id: root
    property var pieces: []
    property string text           // the whole reasoning: what each cut between pieces dropped
    property var copier: null      // ChatController, for copying a selection across pieces
    property double thinkingMs
    property bool thinking: false   // streaming, and no answer yet
    property bool answered: true    // some answer text exists
    property bool userChoice: false
    property bool userExpanded: false
    readonly property bool expanded: userChoice ? userExpanded : !answered
    spacing: 4

    function sync() { ListSync.update(shown, (root.pieces || []).map(text => ({ piece: text })), ["piece"]) }
    onPiecesChanged: sync()
    Component.onCompleted: sync()
    ListModel { id: shown }

    ToolButton {
        id: header
        objectName: "thinkingHeader"
        padding: 2
        font.pixelSize: Theme.small
        text: (root.expanded ? "▾ " : "▸ ") + (root.thinking ? qsTr("Thinking… %1 s") : qsTr("Thought for %1 s"))
              .arg((root.thinkingMs / 1000).toFixed(1))
        contentItem: Label { text: header.text; color: Theme.subtle; font: header.font }
        onClicked: { root.userChoice = true; root.userExpanded = !root.expanded }
    }
    Rectangle {
        visible: root.expanded
        Layout.fillWidth: true
        implicitHeight: pieceColumn.implicitHeight + 12
        color: "transparent"
        Rectangle { width: 2; height: parent.height; color: Theme.border }
        Column {
            id: pieceColumn
            x: 12
            y: 6
            width: parent.width - 16
            Repeater {
                id: pieceRepeater
                model: shown
                delegate: TextEdit {
                    id: pieceText
                    required property string piece
                    objectName: "reasoningText"
                    width: pieceColumn.width
                    text: pieceText.piece
                    readOnly: true
                    selectByMouse: true
                    wrapMode: Text.Wrap
                    color: Theme.subtle
                    font.pixelSize: Theme.small
                    Keys.onPressed: event => span.copyKey(event)
                }
            }
        }
        SelectionSpan {
            id: span
            anchors.fill: pieceColumn
            copier: root.copier
            texts: () => {
                const out = []
                for (let i = 0; i < pieceRepeater.count; ++i) out.push(pieceRepeater.itemAt(i))
                return out
            }
            // Each cut dropped one character, a line break or a space (split_plain_text).
            separatorAfter: i => {
                let at = 0
                for (let k = 0; k <= i; ++k) at += shown.get(k).piece.length + (k < i ? 1 : 0)
                return root.text.charAt(at)
            }
        }
    }
}
